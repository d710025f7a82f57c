/*
 * Money: amounts arrive from the shop API in minor units (cents for usd, yen for jpy) with an ISO 4217 currency.
 * Pure functions (no DOM), unit-tested by tests/web/shop-money.test.mjs.
 *
 * The amount is never divided as a float: the minor units are turned into an exact decimal string
 * ("1234" usd → "12.34") and Intl.NumberFormat formats that, so 0.1 + 0.2 never shows up on a receipt.
 */

const formatters = new Map();

function formatter(locale, currency) {
  const key = `${locale || ''}|${currency}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency });
    formatters.set(key, format);
  }
  return format;
}

/** A currency code Intl knows ("usd" → "USD"), else null. */
export function currencyCode(currency) {
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) return null;
  const code = currency.toUpperCase();
  try {
    formatter('en', code);
    return code;
  } catch (_) {
    return null;
  }
}

/** How many decimals a currency's minor unit has: 2 for USD and EUR, 0 for JPY, 3 for KWD. */
export function minorUnitDigits(currency) {
  const code = currencyCode(currency);
  return code ? formatter('en', code).resolvedOptions().maximumFractionDigits : 2;
}

/** The exact decimal string for an amount in minor units: (1234, 2) → "12.34", (-5, 2) → "-0.05", (500, 0) → "500". */
export function minorToDecimal(minor, digits) {
  const sign = minor < 0 ? '-' : '';
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  if (digits === 0) return sign + text;
  return `${sign}${text.slice(0, text.length - digits)}.${text.slice(text.length - digits)}`;
}

/**
 * "$12.34" for (1234, "usd"); in the viewer's locale unless `locale` is given. "—" when the amount is not a whole
 * number of minor units or the currency is unknown: a wrong number must not look like a price.
 */
export function formatMoney(minor, currency, locale = undefined) {
  const code = currencyCode(currency);
  if (!Number.isSafeInteger(minor) || !code) return '—';
  return formatter(locale, code).format(minorToDecimal(minor, minorUnitDigits(code)));
}
