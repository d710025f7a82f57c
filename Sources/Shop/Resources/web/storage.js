/*
 * Web Storage that may be missing: a private window or a blocked site answers null, and the page then keeps
 * its state for the page's lifetime only. Also where the pages remember the order a cart became.
 */

/** window.localStorage / sessionStorage, or null when the browser refuses it. */
export function webStorage(name) {
  try {
    const storage = globalThis[name];
    const probe = '__interchange_probe__';
    storage.setItem(probe, probe);
    storage.removeItem(probe);
    return storage;
  } catch (_) {
    return null;
  }
}

export function readJSON(storage, key) {
  try {
    const text = storage && storage.getItem(key);
    return text ? JSON.parse(text) : null;
  } catch (_) {
    return null;
  }
}

export function writeJSON(storage, key, value) {
  try {
    if (!storage) return false;
    if (value === null || value === undefined) storage.removeItem(key);
    else storage.setItem(key, JSON.stringify(value));
    return true;
  } catch (_) {
    return false;
  }
}

/** {fingerprint, key}: the Idempotency-Key of the submission awaiting a definite answer (submission.js). */
export const PENDING_SUBMISSION_KEY = 'interchange.shop.pendingSubmission.v1';
/** {fingerprint, orderId}: the order the cart with that fingerprint became; pressing Checkout again pays it. */
export const PLACED_ORDER_KEY = 'interchange.shop.placedOrder.v1';
