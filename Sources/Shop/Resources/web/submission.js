/*
 * One Idempotency-Key per cart submission. Pure (the random source is passed in); unit-tested by
 * tests/web/shop-submission.test.mjs.
 *
 * A submission is "place an order for this cart". Its key is made when the user presses Checkout and kept
 * until the server gives a definite answer (201, or a 4xx that is not 409): a retry after a network failure or a
 * 5xx sends the same key, so the server answers with the order it already created instead of a second one.
 * A changed cart is a new submission with a new key. While a submission is in flight the page ignores further
 * presses (the button is disabled too), so a double click sends one request.
 */

/** A random UUID v4; crypto.randomUUID when there is one (secure contexts), else from getRandomValues. */
export function newIdempotencyKey(cryptoSource = globalThis.crypto) {
  if (cryptoSource && typeof cryptoSource.randomUUID === 'function') return cryptoSource.randomUUID();
  const bytes = new Uint8Array(16);
  cryptoSource.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The key for submitting the cart with `fingerprint`: the pending one when it was for the same cart, else a new
 * one. Returns {pending, key}: `pending` is what to keep until the answer.
 */
export function keyForSubmission(pending, fingerprint, makeKey = newIdempotencyKey) {
  if (pending && pending.fingerprint === fingerprint && typeof pending.key === 'string') {
    return { pending, key: pending.key };
  }
  const next = { fingerprint, key: makeKey() };
  return { pending: next, key: next.key };
}

/**
 * Whether the key may be sent again after this answer: yes when the server may not have seen it or may have
 * failed before deciding (no answer, 5xx) or was still running it (409); no once it has decided (2xx, other 4xx).
 */
export function keepKeyAfter(status) {
  return status === 0 || status === 409 || status >= 500;
}
