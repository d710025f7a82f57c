import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  candidateLabels,
  capitalise,
  countryName,
  formatCount,
  formatPercent,
  parseCalendarDate,
  parseDate,
  placeLabel,
  relativeTime,
  retryPhrase,
  roundedDegrees,
  safeColor,
  safeHttpUrl,
  shortDuration,
  staleLabel,
  timeFormat,
} from '../../Sources/WeatherDashboard/Resources/web/format.js';

describe('temperatures and counts', () => {
  test('degrees are rounded, with a real minus sign and never "-0"', () => {
    assert.equal(roundedDegrees(17.4), '17');
    assert.equal(roundedDegrees(-3.6), '\u22124');
    assert.equal(roundedDegrees(-0.4), '0');
    assert.equal(roundedDegrees(Number.NaN), '—');
    assert.equal(roundedDegrees(undefined), '—');
  });

  test('a missing count is a dash; a tiny percentage is "<0.1%"', () => {
    assert.equal(formatCount(42), '42');
    assert.equal(formatCount(null), '—');
    assert.equal(formatPercent(0.01), '<0.1%');
    assert.equal(formatPercent(12.34), '12.3%');
  });
});

describe('durations and times', () => {
  test('short durations round up to whole minutes past a minute', () => {
    assert.equal(shortDuration(45), '45 s');
    assert.equal(shortDuration(-5), '0 s');
    assert.equal(shortDuration(121), '3 min');
    assert.equal(shortDuration(3900), '1 h 5 min');
    assert.equal(shortDuration(7200), '2 h');
  });

  test('a retry time names the clock time and how long until then', () => {
    const now = Date.UTC(2026, 2, 20, 12, 0, 0);
    const date = new Date(now + 180 * 1000);
    assert.equal(retryPhrase(date, now), `at ${timeFormat.format(date)} (in 3 min)`);
    assert.equal(retryPhrase(new Date(now - 1000), now), 'now');
  });

  test('stale labels grow from minutes to hours to days', () => {
    assert.equal(staleLabel(30), 'Stale (cached <1 min ago)');
    assert.equal(staleLabel(undefined), 'Stale (cached <1 min ago)');
    assert.equal(staleLabel(720), 'Stale (cached 12 min ago)');
    assert.equal(staleLabel(3 * 3600), 'Stale (cached 3 h ago)');
    assert.equal(staleLabel(3 * 86400), 'Stale (cached 3 days ago)');
  });

  test('relative times: "just now" under 45 s, else the largest fitting unit', () => {
    const now = Date.UTC(2026, 2, 20, 12, 0, 0);
    assert.equal(relativeTime(new Date(now - 10 * 1000), now), 'just now');
    assert.match(relativeTime(new Date(now - 5 * 60 * 1000), now), /5 minutes ago/);
    assert.match(relativeTime(new Date(now - 3 * 86400 * 1000), now), /3 days ago/);
  });

  test('dates: timestamps parse, calendar dates are UTC midnights, anything else is null', () => {
    assert.equal(parseDate('2026-03-20T14:41:07Z').getTime(), Date.UTC(2026, 2, 20, 14, 41, 7));
    assert.equal(parseDate('yesterday'), null);
    assert.equal(parseDate(42), null);
    assert.equal(parseCalendarDate('2026-03-20').getTime(), Date.UTC(2026, 2, 20));
    assert.equal(parseCalendarDate('2026-03-20T00:00:00Z'), null);
  });
});

describe('values from the API made safe', () => {
  test('only http(s) links are kept', () => {
    assert.equal(safeHttpUrl('https://github.com/apple/swift-nio'), 'https://github.com/apple/swift-nio');
    assert.equal(safeHttpUrl('javascript:alert(1)'), null);
    assert.equal(safeHttpUrl('data:text/html,<b>x</b>'), null);
    assert.equal(safeHttpUrl(''), null);
    assert.equal(safeHttpUrl('/relative', 'http://127.0.0.1:8080/'), 'http://127.0.0.1:8080/relative');
  });

  test('only #rrggbb colours are kept', () => {
    assert.equal(safeColor('#F05138', '#000000'), '#F05138');
    assert.equal(safeColor('red; background: url(x)', '#6b7280'), '#6b7280');
  });
});

describe('place labels', () => {
  test('a place reads "name, region, country" without repeating the name', () => {
    assert.equal(countryName('GB'), 'United Kingdom');
    assert.equal(countryName('not a code'), 'not a code');
    assert.equal(placeLabel({ name: 'London', region: 'England', country: 'GB' }), 'London, England, United Kingdom');
    assert.equal(placeLabel({ name: 'Berlin', region: 'Berlin', country: 'DE' }), 'Berlin, Germany');
    assert.equal(capitalise('light rain'), 'Light rain');
  });

  test('places that would read the same get their coordinates', () => {
    const labels = candidateLabels([
      { name: 'Springfield', country: 'US', latitude: 39.8, longitude: -89.64 },
      { name: 'Springfield', country: 'US', latitude: 37.21, longitude: -93.29 },
      { name: 'London', country: 'CA', latitude: 42.98, longitude: -81.23 },
    ]);
    assert.deepEqual(labels, [
      'Springfield, United States (39.80, -89.64)',
      'Springfield, United States (37.21, -93.29)',
      'London, Canada',
    ]);
  });
});
