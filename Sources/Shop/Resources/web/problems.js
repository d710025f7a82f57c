/*
 * From a failed shop API call to the message the page shows: RFC 9457 problem+json bodies
 * ({type, title, status, detail, field?, parameter?}) and network failures. Pure (no DOM, no fetch);
 * unit-tested by tests/web/shop-problems.test.mjs.
 *
 * A result is what api.js returns: {status, body, headers} (status 0: no answer). The API names the offending
 * field of an order as `lines[1].productId` or `lines[2].quantity` (in the problem's `field`, or at the start of
 * its `detail`); the page turns the index back into the cart line's product name, so the message says which item
 * is wrong, and keeps the server's detail beside it.
 */

/** The body of an answer as an object to read fields from: `{}` when there was none or it was not JSON. */
export function responseBody(result) {
  return result && result.body && typeof result.body === 'object' && !Array.isArray(result.body) ? result.body : {};
}

const LINE_FIELD = /\blines\[(\d+)\](?:\.(\w+))?/;

/** The field a problem names: its `field` or `parameter` member, else a `lines[i].x` at the start of `detail`. */
export function problemField(body) {
  if (typeof body.field === 'string' && body.field) return body.field;
  if (typeof body.parameter === 'string' && body.parameter) return body.parameter;
  if (typeof body.pointer === 'string' && body.pointer) return body.pointer;
  const match = typeof body.detail === 'string' ? LINE_FIELD.exec(body.detail) : null;
  return match ? match[0] : null;
}

/** {index, member} for "lines[2].quantity" (member may be null for "lines[2]"); null for any other field. */
export function lineOfField(field) {
  const match = typeof field === 'string' ? LINE_FIELD.exec(field) : null;
  return match ? { index: Number(match[1]), member: match[2] || null } : null;
}

function quoted(text) {
  return `\u201C${text}\u201D`;
}

/**
 * The message for a failed call. context: {action: 'products'|'order'|'checkout'|'load', lineNames?: [name of
 * cart line i], orderId?}. Returns {tone, text, hint, field, lineIndex, retryable}; `hint` is the server's own
 * detail when the text is the page's wording, so what the server named is always on screen.
 */
export function problemMessage(result, context = {}) {
  const body = responseBody(result);
  const status = result ? result.status : 0;
  const detail = typeof body.detail === 'string' && body.detail ? body.detail : '';
  const title = typeof body.title === 'string' && body.title ? body.title : '';
  const field = problemField(body);
  const line = lineOfField(field);
  const names = context.lineNames || [];
  const lineName = line && names[line.index] ? quoted(names[line.index]) : line ? `Item ${line.index + 1}` : null;
  const message = (tone, text, extra = {}) => ({
    tone,
    text,
    hint: detail && detail !== text ? detail : null,
    field,
    lineIndex: line ? line.index : null,
    retryable: false,
    ...extra,
  });

  if (status === 0) {
    return message('error', 'We couldn\u2019t reach the shop. Check your connection and try again.', { retryable: true });
  }
  if (context.action === 'order' && line && (status === 404 || line.member === 'productId')) {
    return message('error', `${lineName} is no longer available. Remove it from your cart and try again.`);
  }
  if (context.action === 'order' && line && line.member === 'quantity') {
    return message('error', `The quantity of ${lineName} can\u2019t be ordered: it must be a whole number from 1 to 99.`);
  }
  if (context.action === 'order' && status === 409) {
    return message('warning', 'This order is already being placed. Wait a moment, then press Checkout again.', { retryable: true });
  }
  if ((context.action === 'checkout' || context.action === 'load') && status === 404) {
    return message('error', `We couldn\u2019t find the order${context.orderId ? ` ${context.orderId}` : ''}.`);
  }
  if (context.action === 'checkout' && status === 409) {
    return message('error', 'This order can\u2019t be paid any more.');
  }
  if (status === 502 || status === 503 || status === 504) {
    const subject = context.action === 'checkout' ? 'The payment provider' : 'The shop';
    const saved = context.action === 'checkout' ? ' Your order is saved and nothing was charged.' : '';
    return message('error', `${subject} isn\u2019t available right now.${saved} Please try again in a moment.`, { retryable: true });
  }
  if (status === 429) {
    return message('warning', 'Too many requests just now. Please wait a moment and try again.', { retryable: true });
  }
  return message('error', detail || title || `Something went wrong (HTTP ${status}). Please try again.`, {
    hint: null,
    retryable: status >= 500,
  });
}
