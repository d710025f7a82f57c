import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { lineOfField, problemField, problemMessage, responseBody } from '../../Sources/Shop/Resources/web/problems.js';

const BASE = 'https://interchange.dev/problems/';
const problem = (status, body) => ({ status, body: { status, ...body }, headers: new Headers({ 'Content-Type': 'application/problem+json' }) });
const lineNames = ['Mug', 'Old lamp', 'T-shirt'];

describe('fields a problem names', () => {
  test('from field, parameter, or the start of the detail', () => {
    assert.equal(problemField({ field: 'lines[1].productId' }), 'lines[1].productId');
    assert.equal(problemField({ parameter: 'id' }), 'id');
    assert.equal(problemField({ detail: 'lines[2].quantity: must be 1...99' }), 'lines[2].quantity');
    assert.equal(problemField({ detail: 'no field here' }), null);
    assert.deepEqual(lineOfField('lines[2].quantity'), { index: 2, member: 'quantity' });
    assert.deepEqual(lineOfField('lines[0]'), { index: 0, member: null });
    assert.equal(lineOfField('lines'), null);
    assert.deepEqual(responseBody({ status: 500, body: [1] }), {});
  });
});

describe('order problems name the cart line', () => {
  test('an unknown product (404, lines[1].productId) names the product and keeps the server detail', () => {
    const result = problem(404, { type: `${BASE}not-found`, title: 'Unknown product', detail: 'lines[1].productId: no product prod_gone', field: 'lines[1].productId' });
    const message = problemMessage(result, { action: 'order', lineNames });
    assert.equal(message.text, '\u201COld lamp\u201D is no longer available. Remove it from your cart and try again.');
    assert.equal(message.hint, 'lines[1].productId: no product prod_gone');
    assert.equal(message.lineIndex, 1);
    assert.equal(message.field, 'lines[1].productId');
    assert.equal(message.tone, 'error');
  });

  test('a quantity out of range (400, lines[2].quantity) names the product and the limits', () => {
    const result = problem(400, { type: `${BASE}invalid-body`, title: 'Invalid request body', detail: 'lines[2].quantity: must be between 1 and 99' });
    const message = problemMessage(result, { action: 'order', lineNames });
    assert.match(message.text, /^The quantity of \u201CT-shirt\u201D/);
    assert.match(message.text, /1 to 99/);
    assert.equal(message.lineIndex, 2);
  });

  test('a line the page has no name for is called by its position', () => {
    const message = problemMessage(problem(404, { field: 'lines[5].productId', detail: 'x' }), { action: 'order', lineNames });
    assert.match(message.text, /^Item 6 is no longer available/);
  });

  test('an empty order shows the server detail; the same key still running asks to wait', () => {
    const empty = problemMessage(problem(400, { title: 'Invalid request body', detail: 'lines: must not be empty', field: 'lines' }), { action: 'order' });
    assert.equal(empty.text, 'lines: must not be empty');
    const running = problemMessage(problem(409, { title: 'Request in progress', detail: 'A request with this Idempotency-Key is still running.' }), { action: 'order' });
    assert.equal(running.tone, 'warning');
    assert.equal(running.retryable, true);
  });
});

describe('checkout and loading problems', () => {
  test('Stripe unreachable (503) says the order is saved and nothing was charged', () => {
    const message = problemMessage(problem(503, { type: `${BASE}upstream-failure`, title: 'Stripe unavailable', detail: 'stripe: connection refused', upstream: 'stripe' }), { action: 'checkout', orderId: 'ord_1' });
    assert.match(message.text, /^The payment provider isn\u2019t available right now\. Your order is saved and nothing was charged\./);
    assert.equal(message.hint, 'stripe: connection refused');
    assert.equal(message.retryable, true);
  });

  test('an order that is not payable (409) says so with the server detail', () => {
    const message = problemMessage(problem(409, { detail: 'order ord_1 is paid' }), { action: 'checkout', orderId: 'ord_1' });
    assert.equal(message.text, 'This order can\u2019t be paid any more.');
    assert.equal(message.hint, 'order ord_1 is paid');
  });

  test('an unknown order (404) is named', () => {
    assert.equal(problemMessage(problem(404, { detail: 'no order' }), { action: 'load', orderId: 'ord_x' }).text, 'We couldn\u2019t find the order ord_x.');
  });

  test('no answer at all is a connection problem; anything else shows its detail, title, or status', () => {
    const offline = problemMessage({ status: 0, body: null, headers: new Headers() }, { action: 'products' });
    assert.match(offline.text, /couldn\u2019t reach the shop/);
    assert.equal(offline.retryable, true);
    assert.equal(problemMessage(problem(418, { title: 'Teapot', detail: 'short and stout' }), {}).text, 'short and stout');
    assert.equal(problemMessage(problem(418, { title: 'Teapot' }), {}).text, 'Teapot');
    assert.equal(problemMessage({ status: 500, body: null }, {}).text, 'Something went wrong (HTTP 500). Please try again.');
    assert.equal(problemMessage({ status: 500, body: null }, {}).hint, null);
  });
});
