import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { currencyCode, formatMoney, minorToDecimal, minorUnitDigits } from '../../Sources/Shop/Resources/web/money.js';

// Intl puts a narrow no-break space or no-break space in some locales; compare with plain spaces.
const plain = (text) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('money from minor units', () => {
  test('usd cents format as dollars and cents in the given locale', () => {
    assert.equal(formatMoney(1234, 'usd', 'en-US'), '$12.34');
    assert.equal(formatMoney(5, 'usd', 'en-US'), '$0.05');
    assert.equal(formatMoney(0, 'usd', 'en-US'), '$0.00');
    assert.equal(formatMoney(123456789, 'usd', 'en-US'), '$1,234,567.89');
    assert.equal(plain(formatMoney(1234, 'eur', 'de-DE')), '12,34 €');
  });

  test('the currency decides the minor unit: yen have none, dinar three', () => {
    assert.equal(minorUnitDigits('usd'), 2);
    assert.equal(minorUnitDigits('JPY'), 0);
    assert.equal(minorUnitDigits('kwd'), 3);
    assert.equal(formatMoney(500, 'jpy', 'en-US'), '¥500');
    assert.equal(plain(formatMoney(1234, 'kwd', 'en-US')), 'KWD 1.234');
  });

  test('amounts are exact decimals, never float arithmetic', () => {
    assert.equal(minorToDecimal(30, 2), '0.30');
    assert.equal(minorToDecimal(-5, 2), '-0.05');
    assert.equal(minorToDecimal(1999, 2), '19.99');
    assert.equal(minorToDecimal(500, 0), '500');
    // 0.1 + 0.2 as floats would be 0.30000000000000004; 10 + 20 minor units are exactly $0.30.
    assert.equal(formatMoney(10 + 20, 'usd', 'en-US'), '$0.30');
    assert.equal(formatMoney(Number.MAX_SAFE_INTEGER, 'usd', 'en-US'), '$90,071,992,547,409.91');
  });

  test('a negative amount keeps its sign', () => {
    assert.equal(formatMoney(-250, 'usd', 'en-US'), '-$2.50');
  });

  test('something that is not a whole number of minor units, or no currency, is a dash, not a price', () => {
    assert.equal(formatMoney(12.5, 'usd', 'en-US'), '—');
    assert.equal(formatMoney('1234', 'usd', 'en-US'), '—');
    assert.equal(formatMoney(Number.NaN, 'usd', 'en-US'), '—');
    assert.equal(formatMoney(1234, 'dollars', 'en-US'), '—');
    assert.equal(formatMoney(1234, undefined, 'en-US'), '—');
    assert.equal(currencyCode('usd'), 'USD');
    assert.equal(currencyCode('us'), null);
  });
});
