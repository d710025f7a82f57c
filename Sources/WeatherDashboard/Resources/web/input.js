/*
 * What the user asks for, parsed and turned into API queries: a city ("Paris, FR"), a chosen place, a shared
 * link (?city=…&units=…) and a repository ("owner/name" or a github.com URL). Pure functions
 * (tests/web/input.test.mjs).
 *
 * A weather query is {city?, country?, lat?, lon?, label?}.
 */

import { isNumber } from './format.js';

/** "Paris, FR" → {city: "Paris", country: "FR"}; anything else is a plain city name. */
export function parseCityInput(text) {
  const match = /^(.*\S)\s*,\s*([A-Za-z]{2})$/.exec(text);
  if (match) return { city: match[1], country: match[2].toUpperCase(), label: text };
  return { city: text, label: text };
}

/** The query for a place the user picked from suggestions or candidates, shown as `label`. */
export function queryForCandidate(candidate, label) {
  return {
    city: candidate.name,
    country: candidate.country,
    lat: candidate.latitude,
    lon: candidate.longitude,
    label,
  };
}

/** The query string of `/api/weather` (and of the page's own URL, so a link restores the search). */
export function weatherParams(query, units) {
  const params = new URLSearchParams();
  if (query.city) params.set('city', query.city);
  if (query.country) params.set('country', query.country);
  if (isNumber(query.lat) && isNumber(query.lon)) {
    params.set('lat', String(query.lat));
    params.set('lon', String(query.lon));
  }
  params.set('units', units);
  return params;
}

/** A shared link's search (?city=…&country=…&lat=…&lon=…&units=…) → {units: 'metric'|'imperial'|null, query|null}. */
export function searchFromParams(params) {
  const units = params.get('units');
  const city = params.get('city') || '';
  const lat = Number.parseFloat(params.get('lat'));
  const lon = Number.parseFloat(params.get('lon'));
  const country = params.get('country') || '';
  let query = null;
  if (city || (Number.isFinite(lat) && Number.isFinite(lon))) {
    query = { label: city ? (country ? `${city}, ${country}` : city) : `${lat}, ${lon}` };
    if (city) query.city = city;
    if (country) query.country = country;
    if (Number.isFinite(lat) && Number.isFinite(lon)) {
      query.lat = lat;
      query.lon = lon;
    }
  }
  return { units: units === 'imperial' || units === 'metric' ? units : null, query };
}

/** "owner/name", a github.com URL or a clone URL → {owner, name, spec}; anything else → null. */
export function parseRepoInput(text) {
  let value = text.trim();
  value = value.replace(/^https?:\/\/(www\.)?github\.com\//i, '').replace(/\.git$/i, '').replace(/\/+$/, '');
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(value);
  return match ? { owner: match[1], name: match[2], spec: `${match[1]}/${match[2]}` } : null;
}
