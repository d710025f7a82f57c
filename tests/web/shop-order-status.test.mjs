import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { latestPaymentFailure, orderView, renderKey, staleView, statusLabel, timelineItem } from '../../Sources/Shop/Resources/web/order-status.js';

const order = (status, paymentStatus, extra = {}) => ({
  id: 'ord_1', status, paymentStatus, currency: 'usd', amountTotal: 1250, lines: [], checkout: null, flags: [],
  createdAt: '2026-12-02T00:00:00Z', updatedAt: '2026-12-02T00:00:01Z', timeline: [], ...extra,
});

describe('status to message', () => {
  test('paid shows "Paid", is settled and offers no payment', () => {
    const view = orderView(order('paid', 'paid'), 'success');
    assert.equal(view.state, 'paid');
    assert.equal(view.label, 'Paid');
    assert.match(view.headline, /paid/);
    assert.equal(view.tone, 'success');
    assert.equal(view.settled, true);
    assert.equal(view.canPay, false);
  });

  test('a declined card on the cancel page: payment failed, shown as an error, settled, and "Try again" pays the same order', () => {
    const failure = { at: '2026-12-02T00:00:02Z', kind: 'payment.failed', message: 'Card declined (generic_decline)' };
    const view = orderView(order('awaiting_payment', 'failed', { timeline: [failure] }), 'cancel');
    assert.equal(view.state, 'declined');
    assert.equal(view.label, 'Payment failed');
    assert.match(view.headline, /declined/);
    assert.equal(view.tone, 'error');
    assert.equal(view.settled, true);
    assert.equal(view.canPay, true);
    assert.equal(view.payLabel, 'Try again');
    assert.equal(view.hint, 'Card declined (generic_decline)');
  });

  test('on the success page an earlier decline is not final: the accepted payment\'s webhook is still to come', () => {
    const declinedThenPaying = order('awaiting_payment', 'failed', { timeline: [{ kind: 'payment.failed', message: 'declined' }] });
    const view = orderView(declinedThenPaying, 'success');
    assert.equal(view.state, 'confirming');
    assert.equal(view.settled, false);
    // If nothing arrives within the budget, the failure is what the page shows, with "Try again".
    const stale = staleView(declinedThenPaying, 'success');
    assert.equal(stale.state, 'declined');
    assert.equal(stale.canPay, true);
    assert.equal(stale.canCheckAgain, true);
  });

  test('before the webhook lands the success page waits; the cancel page says the order is still payable', () => {
    const success = orderView(order('awaiting_payment', 'unpaid'), 'success');
    assert.equal(success.state, 'confirming');
    assert.equal(success.settled, false);
    assert.equal(success.canPay, false);
    const cancel = orderView(order('awaiting_payment', 'unpaid'), 'cancel');
    assert.equal(cancel.state, 'open');
    assert.equal(cancel.settled, false, 'a decline webhook may still arrive');
    assert.equal(cancel.canPay, true);
    assert.match(cancel.text, /still open and can be paid/);
  });

  test('a delayed payment method is processing and not settled', () => {
    const view = orderView(order('awaiting_payment', 'processing'), 'success');
    assert.equal(view.state, 'processing');
    assert.equal(view.settled, false);
  });

  test('expired can be paid again; cancelled, refunded and fulfilled cannot; all are settled', () => {
    const expired = orderView(order('expired', 'unpaid'));
    assert.deepEqual([expired.state, expired.settled, expired.canPay, expired.payLabel], ['expired', true, true, 'Try again']);
    for (const [status, payment, state] of [['cancelled', 'failed', 'cancelled'], ['refunded', 'refunded', 'refunded'], ['fulfilled', 'paid', 'fulfilled']]) {
      const view = orderView(order(status, payment));
      assert.deepEqual([view.state, view.settled, view.canPay], [state, true, false], status);
    }
  });

  test('an amount mismatch is a review, not paid, and asks for no second payment', () => {
    const view = orderView(order('awaiting_payment', 'unpaid', { flags: ['amount_mismatch'] }), 'success');
    assert.equal(view.state, 'review');
    assert.equal(view.settled, true);
    assert.equal(view.canPay, false);
    assert.match(view.text, /do not need to pay again/);
  });

  test('an unknown status is named as it is and polling goes on', () => {
    const view = orderView(order('on_hold', 'unpaid'));
    assert.equal(view.label, 'on_hold');
    assert.equal(view.settled, false);
    assert.equal(statusLabel('awaiting_payment'), 'Awaiting payment');
  });

  test('when the poll budget runs out the success page says so and offers to check again', () => {
    const view = staleView(order('awaiting_payment', 'unpaid'), 'success');
    assert.equal(view.state, 'confirming');
    assert.equal(view.canCheckAgain, true);
    assert.match(view.text, /not arrived yet/);
    const cancel = staleView(order('awaiting_payment', 'unpaid'), 'cancel');
    assert.equal(cancel.canPay, true);
    assert.match(cancel.text, /still open and can be paid/);
  });
});

describe('timeline', () => {
  test('entries read as their message with the transition they made', () => {
    const item = timelineItem({ at: '2026-12-02T00:00:03Z', kind: 'payment.succeeded', message: 'Payment received', from: 'awaiting_payment', to: 'paid' });
    assert.equal(item.at.getTime(), Date.UTC(2026, 11, 2, 0, 0, 3));
    assert.equal(item.text, 'Payment received');
    assert.equal(item.transition, 'Awaiting payment \u2192 Paid');
    const bare = timelineItem({ at: 'not a date', kind: 'checkout.session_created' });
    assert.equal(bare.at, null);
    assert.equal(bare.text, 'checkout.session_created');
    assert.equal(bare.transition, null);
    const rejected = timelineItem({ at: '2026-12-02T00:00:04Z', kind: 'transition.rejected', message: 'expiry rejected', from: 'paid', to: 'expired' });
    assert.equal(rejected.transition, 'not applied: Paid \u2192 Expired');
  });

  test('the latest payment failure is the one shown', () => {
    const timeline = [
      { kind: 'payment.failed', message: 'first' },
      { kind: 'checkout.session_created', message: 'retry' },
      { kind: 'payment_intent.payment_failed', message: 'second' },
      { kind: 'order.created', message: 'x' },
    ];
    assert.equal(latestPaymentFailure({ timeline }).message, 'second');
    assert.equal(latestPaymentFailure({ timeline: [] }), null);
  });

  test('the page redraws only when the status, update time or timeline changes', () => {
    const a = order('awaiting_payment', 'unpaid');
    assert.equal(renderKey(a), renderKey({ ...a }));
    assert.notEqual(renderKey(a), renderKey({ ...a, paymentStatus: 'failed' }));
    assert.notEqual(renderKey(a), renderKey({ ...a, timeline: [{ kind: 'x' }] }));
    assert.notEqual(renderKey(a), renderKey({ ...a, updatedAt: '2026-12-02T00:00:09Z' }));
  });
});
