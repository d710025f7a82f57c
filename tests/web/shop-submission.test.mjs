import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { keepKeyAfter, keyForSubmission, newIdempotencyKey } from '../../Sources/Shop/Resources/web/submission.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('idempotency keys per cart submission', () => {
  test('keys are random v4 UUIDs, also without crypto.randomUUID (an insecure context)', () => {
    assert.match(newIdempotencyKey(), UUID);
    const fallback = { getRandomValues: (bytes) => globalThis.crypto.getRandomValues(bytes) };
    const keys = new Set(Array.from({ length: 100 }, () => newIdempotencyKey(fallback)));
    assert.equal(keys.size, 100);
    for (const key of keys) assert.match(key, UUID);
  });

  test('the same cart resubmitted while its answer is pending sends the same key; another cart a new one', () => {
    let n = 0;
    const make = () => `key-${(n += 1)}`;
    const first = keyForSubmission(null, 'cart-A', make);
    assert.equal(first.key, 'key-1');
    const retry = keyForSubmission(first.pending, 'cart-A', make);
    assert.equal(retry.key, 'key-1');
    const changed = keyForSubmission(retry.pending, 'cart-B', make);
    assert.equal(changed.key, 'key-2');
    assert.deepEqual(changed.pending, { fingerprint: 'cart-B', key: 'key-2' });
  });

  test('a key is kept for a retry only when the server may not have decided', () => {
    for (const status of [0, 409, 500, 502, 503, 504]) assert.equal(keepKeyAfter(status), true, String(status));
    for (const status of [200, 201, 400, 404, 422]) assert.equal(keepKeyAfter(status), false, String(status));
  });
});
