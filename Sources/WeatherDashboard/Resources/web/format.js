/*
 * Formatting: numbers, dates, durations and labels for the dashboard. Pure functions (no DOM), so Node's
 * test runner imports them directly (tests/web/format.test.mjs).
 */

export const UNIT_LABELS = {
  metric: { temperature: '°C', wind: 'm/s', name: 'metric' },
  imperial: { temperature: '°F', wind: 'mph', name: 'imperial' },
};

export const SERVICE_NAMES = {
  openweathermap: 'OpenWeatherMap',
  'open-meteo': 'Open-Meteo',
  github: 'GitHub',
};

export const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
export const decimalFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
export const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
export const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
export const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', timeZone: 'UTC' });
export const dayMonthFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
export const longDayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
let regionNames = null;
try {
  regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
} catch (_) {
  regionNames = null;
}

export function isNumber(value) {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Rounded, with a real minus sign and no "-0". */
export function roundedDegrees(value) {
  if (!isNumber(value)) return '—';
  let rounded = Math.round(value);
  if (Object.is(rounded, -0)) rounded = 0;
  return (rounded < 0 ? '\u2212' : '') + integerFormat.format(Math.abs(rounded));
}

export function formatCount(value) {
  return isNumber(value) ? integerFormat.format(value) : '—';
}

export function formatPercent(value) {
  return value < 0.05 ? '<0.1%' : `${decimalFormat.format(value)}%`;
}

export function countryName(code) {
  if (typeof code !== 'string' || !/^[A-Za-z]{2}$/.test(code)) return code || '';
  try {
    return (regionNames && regionNames.of(code.toUpperCase())) || code.toUpperCase();
  } catch (_) {
    return code.toUpperCase();
  }
}

export function parseDate(value) {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isFinite(time) ? new Date(time) : null;
}

/** "YYYY-MM-DD" as a UTC midnight, so the label never shifts with the viewer's time zone. */
export function parseCalendarDate(value) {
  const match = typeof value === 'string' && /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  return new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
}

export function relativeTime(date, now = Date.now()) {
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 45 * 60) return relativeFormat.format(Math.round(seconds / 60), 'minute');
  if (abs < 22 * 3600) return relativeFormat.format(Math.round(seconds / 3600), 'hour');
  if (abs < 26 * 86400) return relativeFormat.format(Math.round(seconds / 86400), 'day');
  if (abs < 320 * 86400) return relativeFormat.format(Math.round(seconds / (30 * 86400)), 'month');
  return relativeFormat.format(Math.round(seconds / (365 * 86400)), 'year');
}

/** "3 min", "45 s", "1 h 5 min" */
export function shortDuration(seconds) {
  const s0 = Math.max(0, Math.round(seconds));
  if (s0 < 60) return `${s0} s`;
  const minutes = Math.ceil(s0 / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

function sameLocalDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "at 14:05 (in 3 min)" for a moment in the future. */
export function retryPhrase(date, now = Date.now()) {
  const seconds = (date.getTime() - now) / 1000;
  if (seconds <= 0) return 'now';
  const when = sameLocalDay(date, new Date(now))
    ? timeFormat.format(date)
    : `${dateFormat.format(date)} ${timeFormat.format(date)}`;
  return `at ${when} (in ${shortDuration(seconds)})`;
}

export function staleLabel(ageSeconds) {
  if (!isNumber(ageSeconds) || ageSeconds < 60) return 'Stale (cached <1 min ago)';
  const minutes = Math.round(ageSeconds / 60);
  if (minutes < 120) return `Stale (cached ${minutes} min ago)`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `Stale (cached ${hours} h ago)`;
  return `Stale (cached ${Math.round(hours / 24)} days ago)`;
}

/** `value` as an absolute http(s) URL (relative ones resolved against `base`, the page by default), else null. */
export function safeHttpUrl(value, base = globalThis.location ? globalThis.location.href : undefined) {
  if (typeof value !== 'string' || value === '') return null;
  try {
    const url = new URL(value, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch (_) {
    return null;
  }
}

export function safeColor(value, fallback) {
  return typeof value === 'string' && /^#[0-9A-Fa-f]{6}$/.test(value) ? value : fallback;
}

export function capitalise(text) {
  return typeof text === 'string' && text ? text.charAt(0).toUpperCase() + text.slice(1) : '';
}

export function placeLabel(city) {
  if (!city) return '';
  const parts = [city.name];
  if (city.region && city.region !== city.name) parts.push(city.region);
  if (city.country) parts.push(countryName(city.country));
  return parts.filter(Boolean).join(', ');
}

/** Labels for a list of places; places that would read the same get their coordinates added. */
export function candidateLabels(candidates) {
  const labels = candidates.map(placeLabel);
  const counts = new Map();
  labels.forEach((label) => counts.set(label, (counts.get(label) || 0) + 1));
  return labels.map((label, i) => {
    const c = candidates[i];
    if (counts.get(label) > 1 && isNumber(c.latitude) && isNumber(c.longitude)) {
      return `${label} (${c.latitude.toFixed(2)}, ${c.longitude.toFixed(2)})`;
    }
    return label;
  });
}
