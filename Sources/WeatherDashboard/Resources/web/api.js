/*
 * Access to this origin's API (openapi/weather-dashboard.yaml) and to the problem types it answers with.
 */

/** The result of a call that never reached an answer. */
function networkFailure(error) {
  return { status: 0, body: null, headers: new Headers(), networkError: error };
}

export function isAbort(error) {
  return Boolean(error) && error.name === 'AbortError';
}

/**
 * Fetches JSON and never throws for HTTP or network failures (only AbortError, when `signal` aborts).
 * Returns {status, body, headers}: body is the parsed JSON, or null when there was none or it was not JSON;
 * status 0 (with networkError) when no answer arrived, also when it broke off mid-body.
 */
export async function getJSON(url, signal) {
  let response;
  let text;
  try {
    response = await fetch(url, {
      signal,
      headers: { Accept: 'application/json, application/problem+json' },
      credentials: 'same-origin',
    });
    text = await response.text();
  } catch (error) {
    if (isAbort(error)) throw error;
    return networkFailure(error);
  }
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (_) {
    body = null;
  }
  return { status: response.status, body, headers: response.headers };
}

/**
 * problem-types.json, the dashboard's problem `type` URIs as the server names them (see problems.js); null when
 * it cannot be loaded, and the page then tells problems apart by status alone.
 */
export async function loadProblemTypes(url = '/assets/problem-types.json') {
  const result = await getJSON(url);
  const types = result.status === 200 ? result.body : null;
  const valid = types && typeof types.base === 'string' && types.kinds && typeof types.kinds === 'object';
  return valid ? types : null;
}
