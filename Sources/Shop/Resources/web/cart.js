/*
 * The cart: which products, how many of each. Pure functions over plain values (no DOM); the page keeps the
 * cart in localStorage through loadCart/saveCart. Unit-tested by tests/web/shop-cart.test.mjs.
 *
 * A cart is {lines: [{productId, quantity, name?}]}; `name` is the product's name when it was added, so a line
 * whose product has left the catalogue can still be shown by name. Prices are never kept: they come from
 * GET api/products for display, and the server prices the order from its own catalogue.
 */

/** The API's limits on one line (POST api/orders answers 400 outside them). */
export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 99;
/** The localStorage key. */
export const CART_STORAGE_KEY = 'interchange.shop.cart.v1';

const PRODUCT_ID = /^[A-Za-z0-9_-]{1,100}$/;

export function emptyCart() {
  return { lines: [] };
}

export function isProductId(value) {
  return typeof value === 'string' && PRODUCT_ID.test(value);
}

/**
 * A quantity typed by the user: {quantity} when it is a whole number from 1 to 99, else {error} saying what is
 * allowed (the field is not changed to something the user did not type).
 */
export function parseQuantity(text) {
  const trimmed = String(text ?? '').trim();
  if (!/^\d+$/.test(trimmed)) {
    return { error: `Enter a whole number from ${MIN_QUANTITY} to ${MAX_QUANTITY}.` };
  }
  const quantity = Number(trimmed);
  if (quantity < MIN_QUANTITY) return { error: `The quantity must be at least ${MIN_QUANTITY}; use Remove to take it out.` };
  if (quantity > MAX_QUANTITY) return { error: `At most ${MAX_QUANTITY} of one product can be ordered.` };
  return { quantity };
}

function withLines(lines) {
  return { lines };
}

/** Adds `quantity` of a product (merging with its line); capped at 99, and {capped: true} says so. */
export function addProduct(cart, product, quantity = 1) {
  const existing = cart.lines.find((line) => line.productId === product.id);
  const wanted = (existing ? existing.quantity : 0) + quantity;
  const next = Math.min(MAX_QUANTITY, Math.max(MIN_QUANTITY, wanted));
  const line = { productId: product.id, quantity: next, name: product.name || (existing && existing.name) };
  const lines = existing
    ? cart.lines.map((l) => (l.productId === product.id ? line : l))
    : [...cart.lines, line];
  return { cart: withLines(lines), capped: wanted > MAX_QUANTITY, quantity: next };
}

/** Sets a line's quantity (1..99; anything else is refused with the cart unchanged). */
export function setQuantity(cart, productId, quantity) {
  if (!Number.isInteger(quantity) || quantity < MIN_QUANTITY || quantity > MAX_QUANTITY) return cart;
  return withLines(cart.lines.map((line) => (line.productId === productId ? { ...line, quantity } : line)));
}

export function removeProduct(cart, productId) {
  return withLines(cart.lines.filter((line) => line.productId !== productId));
}

/** How many items in all. */
export function itemCount(cart) {
  return cart.lines.reduce((sum, line) => sum + line.quantity, 0);
}

/**
 * The cart priced with the catalogue (`products` from GET api/products): each line with its product (null when
 * the catalogue no longer has it) and amount, the total of the priced lines, their currency, and which lines are
 * unavailable. `mixedCurrencies` is true when the products disagree on currency (then there is no single total).
 */
export function priceCart(cart, products) {
  const byId = new Map((products || []).map((p) => [p.id, p]));
  const lines = cart.lines.map((line) => {
    const product = byId.get(line.productId) || null;
    const amount = product ? product.unitAmount * line.quantity : null;
    return { ...line, name: product ? product.name : line.name || line.productId, product, amount };
  });
  const priced = lines.filter((line) => line.product);
  const currencies = new Set(priced.map((line) => line.product.currency));
  const currency = currencies.size === 1 ? [...currencies][0] : null;
  return {
    lines,
    total: currencies.size <= 1 ? priced.reduce((sum, line) => sum + line.amount, 0) : null,
    currency,
    mixedCurrencies: currencies.size > 1,
    unavailable: lines.filter((line) => !line.product).map((line) => line.productId),
  };
}

/** The body of POST api/orders, lines in cart order (a problem's `lines[i]` is the cart's line i). */
export function orderRequest(cart) {
  return { lines: cart.lines.map((line) => ({ productId: line.productId, quantity: line.quantity })) };
}

/** A string equal for two carts exactly when they would place the same order. */
export function cartFingerprint(cart) {
  return JSON.stringify(orderRequest(cart).lines.map((line) => [line.productId, line.quantity]));
}

/**
 * A cart read back from storage, whatever is there: lines with an invalid id are dropped, duplicates merged,
 * quantities brought into 1..99; anything unreadable is an empty cart.
 */
export function parseStoredCart(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (_) {
    return emptyCart();
  }
  if (!value || !Array.isArray(value.lines)) return emptyCart();
  let cart = emptyCart();
  for (const line of value.lines) {
    if (!line || !isProductId(line.productId) || !Number.isFinite(line.quantity)) continue;
    const quantity = Math.min(MAX_QUANTITY, Math.max(MIN_QUANTITY, Math.trunc(line.quantity)));
    const name = typeof line.name === 'string' ? line.name.slice(0, 200) : undefined;
    cart = addProduct(cart, { id: line.productId, name }, quantity).cart;
  }
  return cart;
}

/** The cart in `storage` (localStorage); an empty one when storage is unavailable or holds nothing usable. */
export function loadCart(storage, key = CART_STORAGE_KEY) {
  try {
    const text = storage && storage.getItem(key);
    return text ? parseStoredCart(text) : emptyCart();
  } catch (_) {
    return emptyCart();
  }
}

/** Saves the cart; false when storage refused (private mode, quota), and the cart then lives for this page only. */
export function saveCart(storage, cart, key = CART_STORAGE_KEY) {
  try {
    if (cart.lines.length === 0) storage.removeItem(key);
    else storage.setItem(key, JSON.stringify(cart));
    return true;
  } catch (_) {
    return false;
  }
}
