import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { timeFormat } from '../../Sources/WeatherDashboard/Resources/web/format.js';
import { kindOfType, problemKind, problemMessage, responseBody, retryDate } from '../../Sources/WeatherDashboard/Resources/web/problems.js';
import { problemTypes } from './web-modules.mjs';

// The file the server reads its problem types from (DashboardProblemTypes.swift): the page's mapping is tested
// against it, so a renamed type breaks this suite as well as the server's.
const types = problemTypes();
const uri = (kind) => types.base + types.kinds[kind];
const headers = (entries = {}) => new Headers(entries);
const problem = (status, body, extra = {}) => ({ status, body, headers: headers(extra) });
const weather = { service: 'The weather service', cityQuery: 'Atlantis' };

describe('problem types', () => {
  test('every kind the page has a message for is a type the server names', () => {
    for (const kind of ['invalidParameter', 'cityNotFound', 'repositoryNotFound', 'upstreamRateLimited', 'upstreamUnavailable', 'upstreamTimeout']) {
      assert.equal(typeof types.kinds[kind], 'string', kind);
      assert.equal(kindOfType(uri(kind), types), kind);
      const message = problemMessage(problem(400, { type: uri(kind), title: 'T', status: 400, detail: 'D' }), weather, types);
      assert.equal(message.kind, kind);
      // An invalid parameter shows the server's detail (it names the parameter); the others have their own text.
      if (kind !== 'invalidParameter') assert.ok(!['T', 'D'].includes(message.text), `${kind} has its own message`);
    }
  });

  test('another type under the base is unknown; a foreign type or none is told by status', () => {
    assert.equal(kindOfType(`${types.base}something-new`, types), 'unknown');
    assert.equal(kindOfType('about:blank', types), null);
    assert.equal(problemKind(problem(503, { type: 'about:blank', title: 'x', status: 503 }), types), 'upstreamUnavailable');
    assert.equal(problemKind(problem(502, null), types), 'upstreamUnavailable');
    assert.equal(problemKind(problem(504, null), types), 'upstreamTimeout');
    assert.equal(problemKind(problem(429, null), types), 'upstreamRateLimited');
    assert.equal(problemKind(problem(500, null), types), 'unknown');
    assert.equal(problemKind({ status: 0, body: null, headers: headers() }, types), 'network');
  });

  test('without the types file the status still picks the message', () => {
    assert.equal(problemKind(problem(404, { type: uri('cityNotFound'), status: 404 }), null), 'unknown');
    assert.equal(problemKind(problem(503, { type: uri('upstreamUnavailable'), status: 503 }), null), 'upstreamUnavailable');
  });

  test('a body that is not an object reads as empty', () => {
    assert.deepEqual(responseBody(problem(502, 'Bad Gateway')), {});
    assert.deepEqual(responseBody(problem(502, null)), {});
    assert.deepEqual(responseBody({ status: 0 }), {});
    assert.equal(problemKind(problem(502, 'Bad Gateway'), types), 'upstreamUnavailable');
  });
});

describe('messages', () => {
  test('an unknown city and repository are named in their messages', () => {
    const city = problemMessage(problem(404, { type: uri('cityNotFound'), status: 404 }), weather, types);
    assert.equal(city.text, 'We couldn\'t find a city called \u201CAtlantis\u201D.');
    assert.equal(city.tone, 'error');
    assert.ok(!city.retryable);
    const repo = problemMessage(problem(404, { type: uri('repositoryNotFound'), status: 404 }), { service: 'GitHub', repo: 'nobody/nothing' }, types);
    assert.equal(repo.text, 'We couldn\'t find the repository \u201Cnobody/nothing\u201D on GitHub.');
  });

  test('an invalid parameter and an unknown problem show the detail', () => {
    const invalid = problemMessage(problem(400, { type: uri('invalidParameter'), title: 'Invalid parameter', status: 400, detail: 'units: must be metric or imperial' }), weather, types);
    assert.equal(invalid.text, 'units: must be metric or imperial');
    const unknown = problemMessage(problem(418, { type: `${types.base}teapot`, title: 'Teapot', status: 418, detail: 'short and stout' }), weather, types);
    assert.equal(unknown.text, 'short and stout');
    assert.equal(problemMessage(problem(500, null), weather, types).text, 'Something went wrong (HTTP 500). Please try again.');
    assert.equal(problemMessage(problem(500, null), weather, types).retryable, true);
  });

  test('outages and timeouts name the service; GitHub is named when it was the upstream', () => {
    const down = problemMessage(problem(503, { type: uri('upstreamUnavailable'), status: 503, upstream: 'open-meteo' }), weather, types);
    assert.equal(down.text, 'The weather service is unavailable right now. Please try again in a few minutes.');
    assert.equal(down.retryable, true);
    const slow = problemMessage(problem(504, { type: uri('upstreamTimeout'), status: 504, upstream: 'github' }), weather, types);
    assert.equal(slow.text, 'GitHub took too long to answer. Please try again.');
    const offline = problemMessage({ status: 0, body: null, headers: headers() }, weather, types);
    assert.equal(offline.kind, 'network');
    assert.equal(offline.retryable, true);
  });

  test('a rate limit says when to try again', () => {
    const now = Date.UTC(2026, 2, 20, 12, 0, 0);
    const body = { type: uri('upstreamRateLimited'), status: 429, upstream: 'open-meteo', retryAfterSeconds: 180 };
    const message = problemMessage(problem(429, body), weather, types, now);
    const at = timeFormat.format(new Date(now + 180 * 1000));
    assert.equal(message.text, `The weather service has received too many requests. Please try again at ${at} (in 3 min).`);
    assert.equal(message.tone, 'warning');
    const github = problemMessage(problem(429, { type: uri('upstreamRateLimited'), status: 429 }), { service: 'GitHub', repo: 'a/b' }, types, now);
    assert.equal(github.text, 'GitHub\'s rate limit has been reached. Please try again in a few minutes.');
  });
});

describe('retry time', () => {
  const now = Date.UTC(2026, 2, 20, 12, 0, 0);

  test('retryAfterSeconds comes first, then resetAt, then the Retry-After header (seconds or a date)', () => {
    const all = problem(429, { retryAfterSeconds: 60, resetAt: '2026-03-20T13:00:00Z' }, { 'Retry-After': '600' });
    assert.equal(retryDate(all, now).getTime(), now + 60 * 1000);
    const reset = problem(429, { resetAt: '2026-03-20T13:00:00Z' }, { 'Retry-After': '600' });
    assert.equal(retryDate(reset, now).getTime(), Date.UTC(2026, 2, 20, 13, 0, 0));
    assert.equal(retryDate(problem(429, null, { 'Retry-After': ' 600 ' }), now).getTime(), now + 600 * 1000);
    const httpDate = problem(429, null, { 'Retry-After': 'Fri, 20 Mar 2026 12:30:00 GMT' });
    assert.equal(retryDate(httpDate, now).getTime(), Date.UTC(2026, 2, 20, 12, 30, 0));
  });

  test('no hint at all is no date; a negative retryAfterSeconds is ignored', () => {
    assert.equal(retryDate(problem(429, null), now), null);
    assert.equal(retryDate(problem(429, { retryAfterSeconds: -5 }), now), null);
  });
});
