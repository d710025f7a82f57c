/*
 * The success and cancel pages (success.html?order=…&session_id=…, cancel.html?order=…): the order's live
 * status. The payment provider redirects here before or after its webhook reaches the shop, so the page asks
 * GET api/orders/{id} with a bounded backoff (polling.js) until the status is settled for this page
 * (order-status.js), then stops; if the budget runs out first it says so and offers "Check again".
 * A declined or expired payment offers "Try again", which calls POST api/orders/{id}/checkout again and goes
 * to the payment page it returns. A paid order empties the cart it was placed from.
 */

import { isAbort, safeHttpUrl, shopAPI } from './api.js';
import { CART_STORAGE_KEY, cartFingerprint, loadCart } from './cart.js';
import { $, clear, h, showAlert } from './dom.js';
import { formatMoney } from './money.js';
import { orderView, paymentStatusLabel, renderKey, staleView, timelineItem } from './order-status.js';
import { backoffSchedule, pollUntil } from './polling.js';
import { problemMessage } from './problems.js';
import { PLACED_ORDER_KEY, readJSON, webStorage, writeJSON } from './storage.js';

const page = document.body.dataset.page === 'cancel' ? 'cancel' : 'success';
const orderId = new URLSearchParams(window.location.search).get('order');
const validOrderId = typeof orderId === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(orderId);
const local = webStorage('localStorage');
const tab = webStorage('sessionStorage');
/** Aborted when the page is left (pagehide); a fresh one when it is shown again from the back/forward cache. */
let leaving = new AbortController();
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

let lastKey = null;
let lastView = null;
/** The latest order the API answered with. */
let lastOrder = null;
let polling = false;

// ------------------------------------------------------------------------------------------- render

function renderView(view) {
  lastView = view;
  const badge = $('order-status');
  badge.textContent = view.label;
  badge.setAttribute('data-state', view.state);
  badge.className = `status-badge status-${view.tone}`;
  $('order-headline').textContent = view.headline;
  $('order-text').textContent = view.text;
  $('order-hint').textContent = view.hint || '';
  $('order-hint').hidden = !view.hint;
  const pay = $('pay-button');
  pay.hidden = !view.canPay;
  if (view.canPay && !pay.disabled) pay.textContent = view.payLabel;
  $('check-again').hidden = !view.canCheckAgain;
  $('order-panel').setAttribute('data-state', view.state);
}

function renderLines(order) {
  const body = clear($('order-lines'));
  for (const line of Array.isArray(order.lines) ? order.lines : []) {
    body.appendChild(h('tr', { 'data-product-id': line.productId },
      h('th', { scope: 'row' }, line.name || line.productId),
      h('td', { class: 'num' }, formatMoney(line.unitAmount, order.currency)),
      h('td', { class: 'num line-quantity' }, String(line.quantity)),
      h('td', { class: 'num line-amount' }, formatMoney(line.amount, order.currency))));
  }
  $('order-total').textContent = formatMoney(order.amountTotal, order.currency);
  $('order-payment-status').textContent = paymentStatusLabel(order.paymentStatus);
  $('summary').hidden = false;
}

function renderTimeline(order) {
  const list = clear($('timeline'));
  for (const entry of Array.isArray(order.timeline) ? order.timeline : []) {
    const item = timelineItem(entry);
    list.appendChild(h('li', { class: 'timeline-entry', 'data-kind': item.kind || '' },
      item.at ? h('time', { datetime: item.at.toISOString(), class: 'timeline-time' }, dateTime.format(item.at)) : null,
      h('span', { class: 'timeline-text' }, item.text),
      item.transition ? h('span', { class: 'timeline-transition' }, item.transition) : null));
  }
  $('timeline-section').hidden = list.children.length === 0;
}

/** A paid order empties the cart it was placed from (this tab's, or one holding exactly its lines). */
function forgetCart(order) {
  const placed = readJSON(tab, PLACED_ORDER_KEY);
  const cart = loadCart(local);
  const orderLines = { lines: (order.lines || []).map((l) => ({ productId: l.productId, quantity: l.quantity })) };
  const same = (placed && placed.orderId === order.id) || (cart.lines.length > 0 && cartFingerprint(cart) === cartFingerprint(orderLines));
  if (!same) return;
  if (placed && placed.orderId === order.id) writeJSON(tab, PLACED_ORDER_KEY, null);
  writeJSON(local, CART_STORAGE_KEY, null);
}

function renderOrder(order) {
  const key = renderKey(order, page);
  if (key === lastKey) return;
  lastKey = key;
  const view = orderView(order, page);
  renderView(view);
  renderLines(order);
  renderTimeline(order);
  if (view.state === 'paid' || view.state === 'fulfilled') forgetCart(order);
}

function onResult(result) {
  $('order-loading').hidden = true;
  $('order-panel').setAttribute('aria-busy', 'false');
  if (result.status === 200 && result.body && typeof result.body === 'object') {
    clear($('order-message'));
    lastOrder = result.body;
    renderOrder(result.body);
    return;
  }
  // A transient failure keeps polling; the alert goes when an answer arrives.
  showAlert($('order-message'), problemMessage(result, { action: 'load', orderId }));
}

// ------------------------------------------------------------------------------------------ polling

async function follow() {
  if (polling) return;
  polling = true;
  $('check-again').hidden = true;
  // data-polling: active while asking, settled once the status is final for this page, gave-up when the budget ran out.
  $('order-panel').setAttribute('data-polling', 'active');
  try {
    const outcome = await pollUntil({
      load: () => shopAPI.order(orderId, leaving.signal),
      isDone: (result) => result.status === 404 || (result.status === 200 && orderView(result.body, page).settled),
      onResult,
      schedule: backoffSchedule({ jitter: 0.2 }),
      signal: leaving.signal,
    });
    $('order-panel').setAttribute('data-polling', outcome.done ? 'settled' : 'gave-up');
    if (!outcome.done && lastOrder) {
      lastKey = null;
      renderView(staleView(lastOrder, page));
    }
  } catch (error) {
    if (!isAbort(error)) throw error;
  } finally {
    polling = false;
  }
}

async function payAgain() {
  const button = $('pay-button');
  if (button.disabled) return;
  button.disabled = true;
  button.textContent = 'Opening payment\u2026';
  clear($('order-message'));
  const session = await shopAPI.checkout(orderId);
  const url = session.status === 200 && session.body ? safeHttpUrl(session.body.url) : null;
  if (url) {
    window.location.assign(url);
    return;
  }
  showAlert($('order-message'), problemMessage(session, { action: 'checkout', orderId }));
  button.disabled = false;
  if (lastView) button.textContent = lastView.payLabel || 'Try again';
  // The order may have moved on (paid meanwhile, say): look again.
  follow();
}

// -------------------------------------------------------------------------------------------- start

function init() {
  window.addEventListener('pagehide', () => leaving.abort());
  if (!validOrderId) {
    $('order-loading').hidden = true;
    $('order-panel').setAttribute('aria-busy', 'false');
    $('order-live').hidden = true;
    showAlert($('order-message'), {
      tone: 'error',
      text: 'This link does not name an order.',
      hint: 'The address should end in ?order=ord_\u2026. Go back to the shop to see your cart.',
    });
    document.documentElement.classList.add('js-ready');
    return;
  }
  $('order-id').textContent = orderId;
  $('pay-button').addEventListener('click', payAgain);
  $('check-again').addEventListener('click', () => {
    $('order-panel').focus();
    follow();
  });
  // Back from the payment page through the back/forward cache: the button and the status are stale.
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    leaving = new AbortController();
    $('pay-button').disabled = false;
    lastKey = null;
    follow();
  });
  document.documentElement.classList.add('js-ready');
  follow();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
