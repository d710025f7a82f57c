/*
 * The shop page (index.html): products → cart → Checkout → the payment provider's hosted page.
 *
 * Plain ES modules, no build step, no dependencies, nothing loaded from elsewhere; CSP-friendly (no inline
 * handlers or styles, no eval). Every string from the API goes in as text (dom.js).
 *
 * Modules: money.js, cart.js, problems.js, order-status.js, polling.js, submission.js — pure, unit-tested with
 * `node --test tests/web/shop-*.test.mjs`; api.js (fetch), dom.js, storage.js — building blocks;
 * shop-page.js (this page) and order-page.js (success.html, cancel.html).
 *
 * Checkout: POST api/orders with an Idempotency-Key per cart submission (submission.js), then
 * POST api/orders/{id}/checkout, then the browser goes to the returned url. The order the cart became is
 * remembered for this tab, so pressing Checkout again after coming back (or after a 503) pays that order
 * instead of placing another.
 */

import { isAbort, safeHttpUrl, shopAPI } from './api.js';
import {
  addProduct,
  cartFingerprint,
  itemCount,
  loadCart,
  MAX_QUANTITY,
  MIN_QUANTITY,
  orderRequest,
  parseQuantity,
  priceCart,
  removeProduct,
  saveCart,
  setQuantity,
} from './cart.js';
import { $, announce, clear, h, showAlert } from './dom.js';
import { formatMoney } from './money.js';
import { problemMessage } from './problems.js';
import { PENDING_SUBMISSION_KEY, PLACED_ORDER_KEY, readJSON, webStorage, writeJSON } from './storage.js';
import { keepKeyAfter, keyForSubmission } from './submission.js';

const local = webStorage('localStorage');
const tab = webStorage('sessionStorage');

let cart = loadCart(local);
/** The catalogue, null until it has loaded. */
let products = null;
let submitting = false;

function persist() {
  saveCart(local, cart);
}

function domId(prefix, productId) {
  return `${prefix}-${productId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

// ------------------------------------------------------------------------------------------- products

function productCard(product) {
  const nameId = domId('product-name', product.id);
  // The accessible name starts with the visible label and names the product: "Add to cart: Interchange mug".
  const button = h('button', { type: 'button', class: 'button button-secondary add-to-cart', 'data-product-id': product.id },
    'Add to cart', h('span', { class: 'visually-hidden' }, `: ${product.name}`));
  button.addEventListener('click', () => add(product));
  return h('li', { class: 'card product-card', 'data-product-id': product.id },
    h('h3', { id: nameId, class: 'product-name' }, product.name),
    product.description ? h('p', { class: 'product-description' }, product.description) : null,
    h('p', { class: 'product-price' }, formatMoney(product.unitAmount, product.currency)),
    button);
}

async function loadProducts() {
  const panel = $('products-panel');
  const message = $('products-message');
  panel.setAttribute('aria-busy', 'true');
  $('products-loading').hidden = false;
  clear(message);
  let result;
  try {
    result = await shopAPI.products();
  } catch (error) {
    if (isAbort(error)) return;
    throw error;
  }
  $('products-loading').hidden = true;
  panel.setAttribute('aria-busy', 'false');
  const list = $('product-list');
  clear(list);
  if (result.status !== 200 || !result.body || !Array.isArray(result.body.data)) {
    showAlert(message, problemMessage(result, { action: 'products' }), [{ label: 'Try again', onClick: loadProducts }]);
    renderCart();
    return;
  }
  products = result.body.data.filter((p) => p && typeof p.id === 'string' && Number.isSafeInteger(p.unitAmount));
  if (products.length === 0) {
    list.appendChild(h('li', { class: 'empty-state' }, 'No products are for sale right now.'));
  }
  for (const product of products) list.appendChild(productCard(product));
  renderCart();
}

// ----------------------------------------------------------------------------------------------- cart

function totalText(priced) {
  if (priced.mixedCurrencies) return 'Prices in several currencies';
  if (!priced.currency) return '—';
  return formatMoney(priced.total, priced.currency);
}

function quantityField(line) {
  const inputId = domId('quantity', line.productId);
  const errorId = domId('quantity-error', line.productId);
  const input = h('input', {
    id: inputId,
    class: 'text-input quantity-input',
    type: 'number',
    inputmode: 'numeric',
    min: MIN_QUANTITY,
    max: MAX_QUANTITY,
    step: 1,
    value: line.quantity,
    'data-product-id': line.productId,
    'aria-describedby': errorId,
  });
  const error = h('p', { id: errorId, class: 'field-error' });
  input.addEventListener('change', () => changeQuantity(line, input, error));
  return h('div', { class: 'quantity-field' },
    h('label', { for: inputId, class: 'visually-hidden' }, `Quantity of ${line.name}`),
    input,
    error);
}

function cartRow(line) {
  const remove = h('button', { type: 'button', class: 'button button-link remove-line', 'data-product-id': line.productId },
    'Remove', h('span', { class: 'visually-hidden' }, ` ${line.name}`));
  remove.addEventListener('click', () => removeLine(line));
  const unavailable = products && !line.product;
  return h('tr', { class: unavailable ? 'cart-line is-unavailable' : 'cart-line', 'data-product-id': line.productId },
    h('th', { scope: 'row', class: 'line-name' },
      line.name,
      unavailable ? h('span', { class: 'line-note' }, 'Not in the catalogue any more') : null),
    h('td', { class: 'num' }, line.product ? formatMoney(line.product.unitAmount, line.product.currency) : '—'),
    h('td', { class: 'num' }, quantityField(line)),
    h('td', { class: 'num line-amount' }, line.product ? formatMoney(line.amount, line.product.currency) : '—'),
    h('td', { class: 'line-remove' }, remove));
}

/** Redraws the cart; `focus` is the id of the element to give focus back to (it was replaced). */
function renderCart(focus = null) {
  const priced = priceCart(cart, products || []);
  const count = itemCount(cart);
  $('cart-count').textContent = count === 1 ? '1 item' : `${count} items`;
  $('cart-empty').hidden = cart.lines.length > 0;
  $('cart-table').hidden = cart.lines.length === 0;
  const body = clear($('cart-lines'));
  for (const line of priced.lines) body.appendChild(cartRow(line));
  $('cart-total').textContent = totalText(priced);
  $('checkout-button').disabled = submitting || cart.lines.length === 0;
  if (focus && $(focus)) $(focus).focus();
  return priced;
}

function cartSummary() {
  const priced = priceCart(cart, products || []);
  const count = itemCount(cart);
  return `${count === 1 ? '1 item' : `${count} items`} in your cart, total ${totalText(priced)}.`;
}

function cartChanged() {
  persist();
  clear($('checkout-message'));
}

function add(product) {
  const result = addProduct(cart, product);
  cart = result.cart;
  cartChanged();
  renderCart();
  announce($('cart-status'), result.capped
    ? `At most ${MAX_QUANTITY} of ${product.name} can be ordered; you have ${result.quantity}.`
    : `Added ${product.name}. ${cartSummary()}`);
}

function changeQuantity(line, input, error) {
  const parsed = parseQuantity(input.value);
  if (parsed.error) {
    input.setAttribute('aria-invalid', 'true');
    error.textContent = parsed.error;
    $('checkout-button').disabled = true;
    return;
  }
  cart = setQuantity(cart, line.productId, parsed.quantity);
  cartChanged();
  renderCart(input.id);
  announce($('cart-status'), `${line.name}: quantity ${parsed.quantity}. ${cartSummary()}`);
}

function removeLine(line) {
  const index = cart.lines.findIndex((l) => l.productId === line.productId);
  cart = removeProduct(cart, line.productId);
  cartChanged();
  renderCart();
  // Focus goes to the next line's Remove button, or the cart itself when it is empty.
  const next = cart.lines[Math.min(index, cart.lines.length - 1)];
  const target = next && document.querySelector(`.remove-line[data-product-id="${CSS.escape(next.productId)}"]`);
  (target || $('cart')).focus();
  announce($('cart-status'), `Removed ${line.name}. ${cart.lines.length ? cartSummary() : 'Your cart is empty.'}`);
}

// ------------------------------------------------------------------------------------------- checkout

function setSubmitting(value, label = 'Checkout') {
  submitting = value;
  const button = $('checkout-button');
  button.disabled = value || cart.lines.length === 0;
  button.textContent = label;
  button.closest('.card').setAttribute('aria-busy', value ? 'true' : 'false');
}

/** Marks the cart line a problem names (lines[i]) and offers to remove an unavailable one. */
function showOrderProblem(message) {
  const line = message.lineIndex !== null ? cart.lines[message.lineIndex] : null;
  const actions = [];
  if (line) {
    const row = document.querySelector(`.cart-line[data-product-id="${CSS.escape(line.productId)}"]`);
    if (row) row.classList.add('has-problem');
    const input = row && row.querySelector('.quantity-input');
    if (input && /quantity/.test(message.field || '')) input.setAttribute('aria-invalid', 'true');
    if (/productId/.test(message.field || '') || !/quantity/.test(message.field || '')) {
      actions.push({ label: `Remove \u201C${line.name || line.productId}\u201D`, onClick: () => removeLine(line) });
    }
  }
  showAlert($('checkout-message'), message, actions);
}

async function placeOrder(fingerprint, lineNames) {
  const submission = keyForSubmission(readJSON(tab, PENDING_SUBMISSION_KEY), fingerprint);
  writeJSON(tab, PENDING_SUBMISSION_KEY, submission.pending);
  const created = await shopAPI.createOrder(orderRequest(cart), submission.key);
  if (!keepKeyAfter(created.status)) writeJSON(tab, PENDING_SUBMISSION_KEY, null);
  if ((created.status === 201 || created.status === 200) && created.body && typeof created.body.id === 'string') {
    writeJSON(tab, PLACED_ORDER_KEY, { fingerprint, orderId: created.body.id });
    return created.body.id;
  }
  showOrderProblem(problemMessage(created, { action: 'order', lineNames }));
  return null;
}

async function checkout() {
  if (submitting || cart.lines.length === 0) return;
  setSubmitting(true, 'Placing order\u2026');
  clear($('checkout-message'));
  let leaving = false;
  try {
    const fingerprint = cartFingerprint(cart);
    const lineNames = priceCart(cart, products || []).lines.map((line) => line.name);
    const placed = readJSON(tab, PLACED_ORDER_KEY);
    let orderId = placed && placed.fingerprint === fingerprint ? placed.orderId : null;
    let session = orderId ? await shopAPI.checkout(orderId) : null;
    if (session && (session.status === 404 || session.status === 409)) {
      // That order was paid, cancelled or is gone: this press is a new order for the cart.
      writeJSON(tab, PLACED_ORDER_KEY, null);
      orderId = null;
      session = null;
    }
    if (!orderId) {
      orderId = await placeOrder(fingerprint, lineNames);
      if (!orderId) return;
      setSubmitting(true, 'Opening payment\u2026');
      session = await shopAPI.checkout(orderId);
    }
    const url = session.status === 200 && session.body ? safeHttpUrl(session.body.url) : null;
    if (url) {
      announce($('cart-status'), 'Taking you to the payment page\u2026');
      leaving = true;
      window.location.assign(url);
      return;
    }
    const message = problemMessage(session, { action: 'checkout', orderId });
    const noLink = 'The payment page could not be opened (no valid link came back). Please try again.';
    showAlert($('checkout-message'), session.status === 200 ? { ...message, text: noLink } : message);
  } finally {
    // While the browser leaves for the payment page the button stays disabled (no second press); otherwise
    // it is usable again.
    if (!leaving) setSubmitting(false);
  }
}

// ----------------------------------------------------------------------------------------------- start

function init() {
  $('checkout-button').addEventListener('click', checkout);
  // Another tab changed the cart: show it.
  window.addEventListener('storage', (event) => {
    if (event.storageArea !== local) return;
    cart = loadCart(local);
    renderCart();
  });
  // Coming back with the browser's Back button from the payment page restores this page from the
  // back/forward cache, mid-"Opening payment…": make it usable again.
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) setSubmitting(false);
  });
  renderCart();
  loadProducts().finally(() => document.documentElement.classList.add('js-ready'));
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
