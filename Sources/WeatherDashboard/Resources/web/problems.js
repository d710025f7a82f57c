/*
 * From a failed API call to the message the page shows. Pure functions (no DOM, no fetch):
 * tests/web/problems.test.mjs drives them with the same problem-types.json the server reads.
 *
 * A result is what api.js's getJSON returns: {status, body, headers} (status 0: the network failed).
 * `types` is problem-types.json, the one list of the dashboard's problem `type` URIs, shared with the server
 * (WeatherDashboard/DashboardProblemTypes.swift reads the same file): {base, kinds: {cityNotFound: 'city-not-found', …}}.
 * A kind here is a key of `kinds` (cityNotFound), or one derived when the body names none: network, unknown, …
 */

import { isNumber, parseDate, retryPhrase } from './format.js';

/** The body of an answer as an object to read fields from: `{}` when there was none or it was not JSON. */
export function responseBody(result) {
  return result && result.body && typeof result.body === 'object' ? result.body : {};
}

/** The kind of a problem `type` URI (a key of `types.kinds`); 'unknown' for another type under the base; null otherwise. */
export function kindOfType(type, types) {
  if (!types || typeof type !== 'string' || !type.startsWith(types.base)) return null;
  const suffix = type.slice(types.base.length);
  for (const [kind, name] of Object.entries(types.kinds)) {
    if (name === suffix) return kind;
  }
  return 'unknown';
}

/** The problem's kind, from its `type`, else one derived from the status. */
export function problemKind(result, types) {
  const body = responseBody(result);
  const kind = kindOfType(body.type, types);
  if (kind) return kind;
  if (result.status === 0) return 'network';
  if (typeof body.detail === 'string' && body.detail) return 'unknown';
  switch (result.status) {
    case 429: return 'upstreamRateLimited';
    case 502: case 503: return 'upstreamUnavailable';
    case 504: return 'upstreamTimeout';
    default: return 'unknown';
  }
}

/** When a rate limit lifts: retryAfterSeconds (immune to clock skew), then resetAt, then Retry-After. */
export function retryDate(result, now = Date.now()) {
  const body = responseBody(result);
  if (isNumber(body.retryAfterSeconds) && body.retryAfterSeconds >= 0) {
    return new Date(now + body.retryAfterSeconds * 1000);
  }
  const reset = parseDate(body.resetAt);
  if (reset) return reset;
  const header = result.headers && result.headers.get('Retry-After');
  if (header) {
    if (/^\s*\d+\s*$/.test(header)) return new Date(now + Number(header) * 1000);
    const httpDate = parseDate(header);
    if (httpDate) return httpDate;
  }
  return null;
}

function serviceName(body, fallback) {
  return fallback === 'GitHub' || body.upstream === 'github' ? 'GitHub' : fallback;
}

/**
 * The message for a failed call, chosen from the problem type; `detail` is the fallback.
 * context: {service: 'The weather service' | 'GitHub', cityQuery?, repo?}
 * Returns {kind, tone: 'error'|'warning', text, hint?, retryable?}.
 */
export function problemMessage(result, context, types, now = Date.now()) {
  const kind = problemKind(result, types);
  const body = responseBody(result);
  const detail = typeof body.detail === 'string' && body.detail ? body.detail : '';
  const title = typeof body.title === 'string' && body.title ? body.title : '';
  const service = serviceName(body, context.service);
  switch (kind) {
    case 'cityNotFound':
      return {
        kind,
        tone: 'error',
        text: `We couldn't find a city called \u201C${context.cityQuery || ''}\u201D.`,
        hint: 'Check the spelling, or add a country code, for example \u201CParis, FR\u201D.',
      };
    case 'repositoryNotFound':
      return {
        kind,
        tone: 'error',
        text: `We couldn't find the repository \u201C${context.repo || ''}\u201D on GitHub.`,
        hint: 'It may be private, renamed or misspelled.',
      };
    case 'invalidParameter':
      return { kind, tone: 'error', text: detail || title || 'The request was not valid.' };
    case 'upstreamRateLimited': {
      const date = retryDate(result, now);
      const when = date ? retryPhrase(date, now) : 'in a few minutes';
      return {
        kind,
        tone: 'warning',
        text: service === 'GitHub'
          ? `GitHub's rate limit has been reached. Please try again ${when}.`
          : `${service} has received too many requests. Please try again ${when}.`,
        retryable: true,
      };
    }
    case 'upstreamUnavailable':
      return {
        kind,
        tone: 'error',
        text: `${service} is unavailable right now. Please try again in a few minutes.`,
        retryable: true,
      };
    case 'upstreamTimeout':
      return {
        kind,
        tone: 'error',
        text: `${service} took too long to answer. Please try again.`,
        retryable: true,
      };
    case 'network':
      return {
        kind,
        tone: 'error',
        text: 'We couldn\u2019t reach the dashboard server. Check your connection and try again.',
        retryable: true,
      };
    default:
      return {
        kind,
        tone: 'error',
        text: detail || title || `Something went wrong (HTTP ${result.status}). Please try again.`,
        retryable: result.status >= 500,
      };
  }
}
