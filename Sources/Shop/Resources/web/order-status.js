/*
 * From an order (GET api/orders/{id}) to what the success and cancel pages say about it. Pure; unit-tested by
 * tests/web/shop-order-status.test.mjs.
 *
 * Order.status ∈ pending, awaiting_payment, paid, fulfilled, cancelled, expired, refunded;
 * Order.paymentStatus ∈ unpaid, processing, paid, failed, refunded; Order.flags may hold amount_mismatch.
 * A declined card leaves the order awaiting_payment with paymentStatus failed (the Checkout session stays open),
 * so it can be paid again.
 */

export const STATUS_LABELS = Object.freeze({
  pending: 'Pending',
  awaiting_payment: 'Awaiting payment',
  paid: 'Paid',
  fulfilled: 'Fulfilled',
  cancelled: 'Cancelled',
  expired: 'Expired',
  refunded: 'Refunded',
});

export const PAYMENT_STATUS_LABELS = Object.freeze({
  unpaid: 'Unpaid',
  processing: 'Processing',
  paid: 'Paid',
  failed: 'Failed',
  refunded: 'Refunded',
});

/** "Awaiting payment" for awaiting_payment; an unknown status reads as itself. */
export function statusLabel(status) {
  return STATUS_LABELS[status] || String(status || 'unknown');
}

export function paymentStatusLabel(status) {
  return PAYMENT_STATUS_LABELS[status] || String(status || 'unknown');
}

/** The latest timeline entry about a failed payment (its message says why), else null. */
export function latestPaymentFailure(order) {
  const timeline = Array.isArray(order && order.timeline) ? order.timeline : [];
  for (let i = timeline.length - 1; i >= 0; i -= 1) {
    const entry = timeline[i];
    const kind = entry && typeof entry.kind === 'string' ? entry.kind : '';
    if (/fail|declin/i.test(kind)) return entry;
  }
  return null;
}

function view(state, tone, label, headline, text, { settled, canPay = false, payLabel = null, hint = null }) {
  return { state, tone, label, headline, text, hint, settled, canPay, payLabel };
}

/**
 * What to show for `order` on `page` ('success' or 'cancel'):
 * {state, tone: success|info|warning|error, label (the status badge), headline, text, hint, settled, canPay, payLabel}.
 * `settled` means nothing more is expected to change without the user (polling stops); `canPay` offers the
 * button that calls checkout again, labelled `payLabel`.
 */
export function orderView(order, page = 'success') {
  const status = order && order.status;
  const payment = order && order.paymentStatus;
  const flags = Array.isArray(order && order.flags) ? order.flags : [];
  if (flags.includes('amount_mismatch') && status !== 'paid' && status !== 'fulfilled') {
    return view('review', 'warning', 'Needs review', 'Your payment needs a review.',
      'The amount the payment provider reported does not match this order, so it has not been marked paid. '
        + 'The shop will look into it; you do not need to pay again.',
      { settled: true });
  }
  switch (status) {
    case 'paid':
      return view('paid', 'success', 'Paid', 'Thank you \u2014 your order is paid.',
        'We have received your payment. A receipt is on its way.', { settled: true });
    case 'fulfilled':
      return view('fulfilled', 'success', 'Fulfilled', 'Your order is paid and on its way.', '', { settled: true });
    case 'refunded':
      return view('refunded', 'info', 'Refunded', 'This order was refunded.',
        'The payment has been returned to your card.', { settled: true });
    case 'cancelled':
      return view('cancelled', 'error', 'Cancelled', 'The payment did not go through, so the order was cancelled.',
        'Nothing was charged. You can place a new order from the shop.', { settled: true });
    case 'expired':
      return view('expired', 'warning', 'Checkout expired', 'The payment page expired before the order was paid.',
        'Nothing was charged. The order is still open: you can start the payment again.',
        { settled: true, canPay: true, payLabel: 'Try again' });
    case 'pending':
    case 'awaiting_payment': {
      // On the success page a failure is an earlier attempt's: the payment provider only sends the browser there
      // after accepting a payment, whose webhook may not have landed yet. Keep waiting (staleView shows the
      // failure if nothing else arrives).
      if (payment === 'failed' && page !== 'success') {
        const failure = latestPaymentFailure(order);
        return view('declined', 'error', 'Payment failed', 'Your payment failed: the card was declined.',
          'Nothing was charged. Your order is still open and can be paid: try again with another card.',
          { settled: true, canPay: true, payLabel: 'Try again', hint: failure && failure.message ? failure.message : null });
      }
      if (payment === 'processing') {
        return view('processing', 'info', 'Processing', 'Your payment is being processed.',
          'Some payment methods take a while to confirm. This page updates when it is confirmed.', { settled: false });
      }
      if (page === 'success') {
        return view('confirming', 'info', 'Awaiting confirmation', 'Waiting for the payment to be confirmed\u2026',
          'This page updates by itself as soon as the payment provider confirms your payment.', { settled: false });
      }
      return view('open', 'warning', 'Not paid', 'The payment was not completed.',
        'You left the payment page before paying. Nothing was charged, and your order is still open and can be paid.',
        { settled: false, canPay: true, payLabel: 'Continue to payment' });
    }
    default:
      return view('unknown', 'info', statusLabel(status), `Order status: ${statusLabel(status)}.`, '', { settled: false });
  }
}

/**
 * What the page shows for `order` once the poll budget ran out without a settled status: a failed payment as
 * declined (with "Try again"), anything else as it is, saying the confirmation has not arrived, with "Check again".
 */
export function staleView(order, page = 'success') {
  const current = orderView(order, page);
  if (order && order.paymentStatus === 'failed' && (order.status === 'awaiting_payment' || order.status === 'pending')) {
    return { ...orderView(order, 'cancel'), canCheckAgain: true };
  }
  const text = page === 'success' && !current.settled
    ? 'The confirmation has not arrived yet. It can take a little longer; check again in a moment.'
    : current.text;
  return { ...current, text, canCheckAgain: true };
}

/** A string that changes exactly when the page would render something different for the order. */
export function renderKey(order, page = 'success') {
  const v = orderView(order, page);
  const timeline = Array.isArray(order && order.timeline) ? order.timeline.length : 0;
  return `${v.state}|${order && order.status}|${order && order.paymentStatus}|${order && order.updatedAt}|${timeline}`;
}

/** A timeline entry as the page lists it: {at: Date|null, text, transition: "Awaiting payment → Paid"|null, kind}. */
export function timelineItem(entry) {
  const time = entry && typeof entry.at === 'string' ? Date.parse(entry.at) : Number.NaN;
  const arrow = entry && entry.from && entry.to ? `${statusLabel(entry.from)} \u2192 ${statusLabel(entry.to)}` : null;
  // An illegal transition is recorded with the move it would have made; it was not applied.
  const transition = arrow && entry.kind === 'transition.rejected' ? `not applied: ${arrow}` : arrow;
  const text = entry && typeof entry.message === 'string' && entry.message ? entry.message : String((entry && entry.kind) || '');
  return { at: Number.isFinite(time) ? new Date(time) : null, text, transition, kind: entry && entry.kind };
}
