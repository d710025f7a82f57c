import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  parseCityInput,
  parseRepoInput,
  queryForCandidate,
  searchFromParams,
  weatherParams,
} from '../../Sources/WeatherDashboard/Resources/web/input.js';

describe('city input', () => {
  test('"name, CC" narrows by country; anything else is a plain name', () => {
    assert.deepEqual(parseCityInput('Paris, fr'), { city: 'Paris', country: 'FR', label: 'Paris, fr' });
    assert.deepEqual(parseCityInput('Washington, D.C.'), { city: 'Washington, D.C.', label: 'Washington, D.C.' });
    assert.deepEqual(parseCityInput('Berlin'), { city: 'Berlin', label: 'Berlin' });
  });

  test('a chosen place is asked for by its coordinates, and the query becomes the page link', () => {
    const query = queryForCandidate({ name: 'London', country: 'CA', latitude: 42.98, longitude: -81.23 }, 'London, Canada');
    assert.deepEqual(query, { city: 'London', country: 'CA', lat: 42.98, lon: -81.23, label: 'London, Canada' });
    assert.equal(weatherParams(query, 'imperial').toString(), 'city=London&country=CA&lat=42.98&lon=-81.23&units=imperial');
    assert.equal(weatherParams({ city: 'Berlin', lat: 52.5 }, 'metric').toString(), 'city=Berlin&units=metric');
  });

  test('a shared link restores the search it was made from', () => {
    const params = weatherParams({ city: 'London', country: 'CA', lat: 42.98, lon: -81.23 }, 'imperial');
    assert.deepEqual(searchFromParams(params), {
      units: 'imperial',
      query: { label: 'London, CA', city: 'London', country: 'CA', lat: 42.98, lon: -81.23 },
    });
    assert.deepEqual(searchFromParams(new URLSearchParams('lat=1.5&lon=2')), {
      units: null,
      query: { label: '1.5, 2', lat: 1.5, lon: 2 },
    });
    assert.deepEqual(searchFromParams(new URLSearchParams('units=kelvin&lat=1')), { units: null, query: null });
  });
});

describe('repository input', () => {
  test('owner/name, a github.com URL and a clone URL give the same repository', () => {
    const expected = { owner: 'apple', name: 'swift-nio', spec: 'apple/swift-nio' };
    assert.deepEqual(parseRepoInput(' apple/swift-nio '), expected);
    assert.deepEqual(parseRepoInput('https://github.com/apple/swift-nio/'), expected);
    assert.deepEqual(parseRepoInput('https://www.github.com/apple/swift-nio.git'), expected);
  });

  test('anything else is refused', () => {
    for (const text of ['', 'apple', 'apple/swift nio', 'a/b/c', 'https://gitlab.com/a/b/c']) {
      assert.equal(parseRepoInput(text), null, text);
    }
  });
});
