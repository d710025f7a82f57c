import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  addProduct,
  cartFingerprint,
  emptyCart,
  itemCount,
  loadCart,
  MAX_QUANTITY,
  orderRequest,
  parseQuantity,
  parseStoredCart,
  priceCart,
  removeProduct,
  saveCart,
  setQuantity,
} from '../../Sources/Shop/Resources/web/cart.js';

const mug = { id: 'prod_mug', name: 'Mug', description: '', unitAmount: 1250, currency: 'usd' };
const tee = { id: 'prod_tee', name: 'T-shirt', description: '', unitAmount: 2000, currency: 'usd' };

/** A Storage with the two methods the cart uses, optionally refusing writes (private mode, full quota). */
function memoryStorage({ refuse = false } = {}) {
  const items = new Map();
  return {
    items,
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => {
      if (refuse) throw new DOMException('quota', 'QuotaExceededError');
      items.set(key, String(value));
    },
    removeItem: (key) => items.delete(key),
  };
}

describe('cart maths', () => {
  test('adding a product twice merges into one line; amounts and the total come from the catalogue', () => {
    let cart = addProduct(emptyCart(), mug).cart;
    cart = addProduct(cart, tee, 2).cart;
    cart = addProduct(cart, mug).cart;
    assert.deepEqual(cart.lines.map((l) => [l.productId, l.quantity]), [['prod_mug', 2], ['prod_tee', 2]]);
    assert.equal(itemCount(cart), 4);
    const priced = priceCart(cart, [mug, tee]);
    assert.deepEqual(priced.lines.map((l) => l.amount), [2500, 4000]);
    assert.equal(priced.total, 6500);
    assert.equal(priced.currency, 'usd');
    assert.deepEqual(priced.unavailable, []);
  });

  test('a quantity never passes 99, and the cap is reported', () => {
    let result = addProduct(emptyCart(), mug, 98);
    assert.equal(result.capped, false);
    result = addProduct(result.cart, mug, 5);
    assert.equal(result.capped, true);
    assert.equal(result.quantity, MAX_QUANTITY);
    assert.equal(result.cart.lines[0].quantity, 99);
  });

  test('setQuantity accepts 1..99 and refuses anything else without changing the cart', () => {
    const cart = addProduct(emptyCart(), mug, 3).cart;
    assert.equal(setQuantity(cart, 'prod_mug', 99).lines[0].quantity, 99);
    assert.equal(setQuantity(cart, 'prod_mug', 1).lines[0].quantity, 1);
    for (const bad of [0, 100, -1, 2.5, Number.NaN]) {
      assert.equal(setQuantity(cart, 'prod_mug', bad), cart, String(bad));
    }
  });

  test('typed quantities: whole numbers 1..99, with a message naming the limit otherwise', () => {
    assert.deepEqual(parseQuantity(' 7 '), { quantity: 7 });
    assert.deepEqual(parseQuantity('99'), { quantity: 99 });
    assert.match(parseQuantity('0').error, /at least 1/);
    assert.match(parseQuantity('100').error, /At most 99/);
    assert.match(parseQuantity('2.5').error, /whole number from 1 to 99/);
    assert.match(parseQuantity('').error, /whole number/);
    assert.match(parseQuantity('-3').error, /whole number/);
  });

  test('removing a line leaves the others in order', () => {
    let cart = addProduct(emptyCart(), mug).cart;
    cart = addProduct(cart, tee).cart;
    assert.deepEqual(removeProduct(cart, 'prod_mug').lines.map((l) => l.productId), ['prod_tee']);
    assert.deepEqual(removeProduct(cart, 'prod_none').lines.length, 2);
  });

  test('a line whose product left the catalogue keeps its name, has no amount and is listed as unavailable', () => {
    let cart = addProduct(emptyCart(), { id: 'prod_gone', name: 'Old lamp' }).cart;
    cart = addProduct(cart, mug).cart;
    const priced = priceCart(cart, [mug]);
    assert.equal(priced.lines[0].name, 'Old lamp');
    assert.equal(priced.lines[0].amount, null);
    assert.equal(priced.total, 1250);
    assert.deepEqual(priced.unavailable, ['prod_gone']);
  });

  test('products in different currencies have no single total', () => {
    const euro = { ...tee, id: 'prod_eu', currency: 'eur' };
    const cart = addProduct(addProduct(emptyCart(), mug).cart, euro).cart;
    const priced = priceCart(cart, [mug, euro]);
    assert.equal(priced.mixedCurrencies, true);
    assert.equal(priced.total, null);
    assert.equal(priced.currency, null);
  });

  test('the order request has productId and quantity per line, in cart order, and no prices', () => {
    const cart = addProduct(addProduct(emptyCart(), tee, 2).cart, mug).cart;
    assert.deepEqual(orderRequest(cart), { lines: [{ productId: 'prod_tee', quantity: 2 }, { productId: 'prod_mug', quantity: 1 }] });
  });

  test('the fingerprint changes exactly when the order would', () => {
    const cart = addProduct(emptyCart(), mug, 2).cart;
    const renamed = { lines: [{ ...cart.lines[0], name: 'Another name' }] };
    assert.equal(cartFingerprint(cart), cartFingerprint(renamed));
    assert.notEqual(cartFingerprint(cart), cartFingerprint(setQuantity(cart, 'prod_mug', 3)));
  });
});

describe('cart storage', () => {
  test('a saved cart loads back the same; an emptied cart removes the key', () => {
    const storage = memoryStorage();
    const cart = addProduct(addProduct(emptyCart(), mug, 3).cart, tee).cart;
    assert.equal(saveCart(storage, cart), true);
    assert.deepEqual(loadCart(storage), cart);
    saveCart(storage, emptyCart());
    assert.equal(storage.items.size, 0);
    assert.deepEqual(loadCart(storage), emptyCart());
  });

  test('whatever is stored, the cart read back is valid: bad ids dropped, duplicates merged, quantities 1..99', () => {
    const stored = JSON.stringify({
      lines: [
        { productId: 'prod_mug', quantity: 250 },
        { productId: 'prod_mug', quantity: 1 },
        { productId: '../../etc', quantity: 1 },
        { productId: 'prod_tee', quantity: 0 },
        { productId: 'prod_x', quantity: 'two' },
        null,
      ],
    });
    assert.deepEqual(parseStoredCart(stored).lines.map((l) => [l.productId, l.quantity]), [['prod_mug', 99], ['prod_tee', 1]]);
    assert.deepEqual(parseStoredCart('not json'), emptyCart());
    assert.deepEqual(parseStoredCart('{"lines": 3}'), emptyCart());
  });

  test('storage that refuses writes or is missing does not break the cart', () => {
    const cart = addProduct(emptyCart(), mug).cart;
    assert.equal(saveCart(memoryStorage({ refuse: true }), cart), false);
    assert.equal(saveCart(null, cart), false);
    assert.deepEqual(loadCart(null), emptyCart());
  });
});
