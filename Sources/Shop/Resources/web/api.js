/*
 * The shop API (Sources/Shop/openapi.yaml), by URLs relative to the page: the pages live at /shop/ under both
 * `interchange up` and `interchange serve shop`, so "api/products" is /shop/api/products either way.
 *
 * Calls never throw for HTTP or network failures (only AbortError, when `signal` aborts). They return
 * {status, body, headers}: body is the parsed JSON, or null when there was none or it was not JSON; status 0
 * (with networkError) when no answer arrived.
 */

const ACCEPT = 'application/json, application/problem+json';

export function isAbort(error) {
  return Boolean(error) && error.name === 'AbortError';
}

async function call(url, init) {
  let response;
  let text;
  try {
    response = await fetch(url, { credentials: 'same-origin', cache: 'no-store', ...init });
    text = await response.text();
  } catch (error) {
    if (isAbort(error)) throw error;
    return { status: 0, body: null, headers: new Headers(), networkError: error };
  }
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (_) {
    body = null;
  }
  return { status: response.status, body, headers: response.headers };
}

export function getJSON(url, signal) {
  return call(url, { signal, headers: { Accept: ACCEPT } });
}

export function postJSON(url, body, { headers = {}, signal } = {}) {
  return call(url, {
    method: 'POST',
    signal,
    headers: { Accept: ACCEPT, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Path segment for an order id (ids are "ord_…"; anything else is escaped, never joined raw). */
function orderPath(id) {
  return `api/orders/${encodeURIComponent(id)}`;
}

export const shopAPI = {
  products: (signal) => getJSON('api/products', signal),
  createOrder: (request, idempotencyKey, signal) => postJSON('api/orders', request, { headers: { 'Idempotency-Key': idempotencyKey }, signal }),
  order: (id, signal) => getJSON(orderPath(id), signal),
  checkout: (id, signal) => postJSON(`${orderPath(id)}/checkout`, undefined, { signal }),
};

/** `value` as an absolute http(s) URL (relative ones resolved against the page), else null. */
export function safeHttpUrl(value, base = globalThis.location ? globalThis.location.href : undefined) {
  if (typeof value !== 'string' || value === '') return null;
  try {
    const url = new URL(value, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch (_) {
    return null;
  }
}
