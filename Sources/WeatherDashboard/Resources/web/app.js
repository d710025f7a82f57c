/*
 * Interchange weather & repository dashboard — browser front-end.
 *
 * Plain ES2020, no build step, no dependencies, no network access beyond this origin's /api/*.
 * CSP-friendly (works under `default-src 'self'`): no inline handlers, no inline style attributes
 * (styles are set through the CSSOM), no eval.
 *
 * Security: every string that comes from the API is inserted with textContent / createElement /
 * setAttribute, never with innerHTML; links from the API are accepted only when they are http(s).
 *
 * API contract: openapi/weather-dashboard.yaml.
 */
(function () {
  'use strict';

  const PROBLEM_PREFIX = 'https://interchange.dev/problems/';
  const DEFAULT_REPOS = ['apple/swift-nio', 'swift-server/async-http-client'];
  const SUGGEST_DELAY_MS = 250;
  const SUGGEST_MIN_CHARS = 2;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const UNIT_LABELS = {
    metric: { temperature: '°C', wind: 'm/s', name: 'metric' },
    imperial: { temperature: '°F', wind: 'mph', name: 'imperial' },
  };
  const SERVICE_NAMES = {
    openweathermap: 'OpenWeatherMap',
    'open-meteo': 'Open-Meteo',
    github: 'GitHub',
  };

  // ------------------------------------------------------------------------------------------
  // DOM helpers (text only: nothing here parses HTML)
  // ------------------------------------------------------------------------------------------

  function append(parent, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) append(parent, child);
      else if (typeof child === 'string' || typeof child === 'number') parent.appendChild(document.createTextNode(String(child)));
      else parent.appendChild(child);
    }
    return parent;
  }

  function applyAttrs(node, attrs) {
    if (!attrs) return node;
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.setAttribute('class', value);
      else if (key === 'text') node.textContent = String(value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    return node;
  }

  /** h('p', {class: 'x'}, 'text', child, …) */
  function h(tag, attrs, ...children) {
    return append(applyAttrs(document.createElement(tag), attrs), children);
  }

  function s(tag, attrs, ...children) {
    return append(applyAttrs(document.createElementNS(SVG_NS, tag), attrs), children);
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function $(id) {
    return document.getElementById(id);
  }

  // ------------------------------------------------------------------------------------------
  // Formatting
  // ------------------------------------------------------------------------------------------

  const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const decimalFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
  const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', timeZone: 'UTC' });
  const dayMonthFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const longDayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
  const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  let regionNames = null;
  try {
    regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
  } catch (_) {
    regionNames = null;
  }

  function isNumber(value) {
    return typeof value === 'number' && Number.isFinite(value);
  }

  /** Rounded, with a real minus sign and no "-0". */
  function roundedDegrees(value) {
    if (!isNumber(value)) return '—';
    let rounded = Math.round(value);
    if (Object.is(rounded, -0)) rounded = 0;
    return (rounded < 0 ? '\u2212' : '') + integerFormat.format(Math.abs(rounded));
  }

  function formatCount(value) {
    return isNumber(value) ? integerFormat.format(value) : '—';
  }

  function countryName(code) {
    if (typeof code !== 'string' || !/^[A-Za-z]{2}$/.test(code)) return code || '';
    try {
      return (regionNames && regionNames.of(code.toUpperCase())) || code.toUpperCase();
    } catch (_) {
      return code.toUpperCase();
    }
  }

  function parseDate(value) {
    if (typeof value !== 'string') return null;
    const time = Date.parse(value);
    return Number.isFinite(time) ? new Date(time) : null;
  }

  /** "YYYY-MM-DD" as a UTC midnight, so the label never shifts with the viewer's time zone. */
  function parseCalendarDate(value) {
    const match = typeof value === 'string' && /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (!match) return null;
    return new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  }

  function relativeTime(date, now = Date.now()) {
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
  function shortDuration(seconds) {
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
  function retryPhrase(date, now = Date.now()) {
    const seconds = (date.getTime() - now) / 1000;
    if (seconds <= 0) return 'now';
    const when = sameLocalDay(date, new Date(now))
      ? timeFormat.format(date)
      : `${dateFormat.format(date)} ${timeFormat.format(date)}`;
    return `at ${when} (in ${shortDuration(seconds)})`;
  }

  function staleLabel(ageSeconds) {
    if (!isNumber(ageSeconds) || ageSeconds < 60) return 'Stale (cached <1 min ago)';
    const minutes = Math.round(ageSeconds / 60);
    if (minutes < 120) return `Stale (cached ${minutes} min ago)`;
    const hours = Math.round(minutes / 60);
    if (hours < 48) return `Stale (cached ${hours} h ago)`;
    return `Stale (cached ${Math.round(hours / 24)} days ago)`;
  }

  function safeHttpUrl(value) {
    if (typeof value !== 'string' || value === '') return null;
    try {
      const url = new URL(value, window.location.href);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function safeColor(value, fallback) {
    return typeof value === 'string' && /^#[0-9A-Fa-f]{6}$/.test(value) ? value : fallback;
  }

  function capitalise(text) {
    return typeof text === 'string' && text ? text.charAt(0).toUpperCase() + text.slice(1) : '';
  }

  function placeLabel(city) {
    if (!city) return '';
    const parts = [city.name];
    if (city.region && city.region !== city.name) parts.push(city.region);
    if (city.country) parts.push(countryName(city.country));
    return parts.filter(Boolean).join(', ');
  }

  function timeElement(date, text) {
    return h('time', { datetime: date.toISOString(), title: dateTimeFormat.format(date) }, text);
  }

  // ------------------------------------------------------------------------------------------
  // API access and problem details
  // ------------------------------------------------------------------------------------------

  /**
   * Fetches JSON and never throws for HTTP or network failures (only for AbortError).
   * Returns {status, body, headers} or {status: 0, networkError}.
   */
  async function getJSON(url, signal) {
    let response;
    try {
      response = await fetch(url, {
        signal,
        headers: { Accept: 'application/json, application/problem+json' },
        credentials: 'same-origin',
      });
    } catch (error) {
      if (error && error.name === 'AbortError') throw error;
      return { status: 0, body: null, headers: new Headers(), networkError: error };
    }
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (_) {
      body = null;
    }
    return { status: response.status, body, headers: response.headers };
  }

  function isAbort(error) {
    return error && error.name === 'AbortError';
  }

  /** The problem's kind (the part of `type` after the prefix), or one derived from the status. */
  function problemKind(result) {
    const body = result.body && typeof result.body === 'object' ? result.body : {};
    if (typeof body.type === 'string' && body.type.startsWith(PROBLEM_PREFIX)) {
      return body.type.slice(PROBLEM_PREFIX.length);
    }
    if (result.status === 0) return 'network';
    if (typeof body.detail === 'string' && body.detail) return 'unknown';
    switch (result.status) {
      case 429: return 'upstream-rate-limited';
      case 502: case 503: return 'upstream-unavailable';
      case 504: return 'upstream-timeout';
      default: return 'unknown';
    }
  }

  /** When a rate limit lifts: retryAfterSeconds (immune to clock skew), then resetAt, then Retry-After. */
  function retryDate(result, now = Date.now()) {
    const body = result.body && typeof result.body === 'object' ? result.body : {};
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

  function serviceName(result, fallback) {
    const upstream = result.body && typeof result.body.upstream === 'string' ? result.body.upstream : '';
    return fallback === 'GitHub' || upstream === 'github' ? 'GitHub' : fallback;
  }

  /**
   * The message for a failed call, chosen from the problem type; `detail` is the fallback.
   * context: {service: 'The weather service' | 'GitHub', cityQuery?, repo?}
   */
  function problemMessage(result, context) {
    const kind = problemKind(result);
    const body = result.body && typeof result.body === 'object' ? result.body : {};
    const detail = typeof body.detail === 'string' && body.detail ? body.detail : '';
    const title = typeof body.title === 'string' && body.title ? body.title : '';
    const service = serviceName(result, context.service);
    switch (kind) {
      case 'city-not-found':
        return {
          kind,
          tone: 'error',
          text: `We couldn't find a city called \u201C${context.cityQuery || ''}\u201D.`,
          hint: 'Check the spelling, or add a country code, for example \u201CParis, FR\u201D.',
        };
      case 'repository-not-found':
        return {
          kind,
          tone: 'error',
          text: `We couldn't find the repository \u201C${context.repo || ''}\u201D on GitHub.`,
          hint: 'It may be private, renamed or misspelled.',
        };
      case 'invalid-parameter':
        return { kind, tone: 'error', text: detail || title || 'The request was not valid.' };
      case 'upstream-rate-limited': {
        const date = retryDate(result);
        const when = date ? retryPhrase(date) : 'in a few minutes';
        return {
          kind,
          tone: 'warning',
          text: service === 'GitHub'
            ? `GitHub's rate limit has been reached. Please try again ${when}.`
            : `${service} has received too many requests. Please try again ${when}.`,
          retryable: true,
        };
      }
      case 'upstream-unavailable':
        return {
          kind,
          tone: 'error',
          text: `${service} is unavailable right now. Please try again in a few minutes.`,
          retryable: true,
        };
      case 'upstream-timeout':
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

  /** Renders a role=alert box into container; actions are {label, onClick, className}. */
  function showAlert(container, message, actions = []) {
    clear(container);
    const box = h('div', { class: `alert alert-${message.tone || 'error'}`, role: 'alert' },
      h('p', { class: 'alert-text' }, message.text),
      message.hint ? h('p', { class: 'alert-hint' }, message.hint) : null);
    container.appendChild(box);
    if (actions.length) {
      const row = h('div', { class: 'alert-actions' });
      for (const action of actions) {
        const button = h('button', { type: 'button', class: action.className || 'button button-secondary' }, action.label);
        button.addEventListener('click', action.onClick);
        row.appendChild(button);
      }
      container.appendChild(row);
    }
    return box;
  }

  function badgesFor(data) {
    const badges = [];
    if (data && data.source && data.source.simulated === true) {
      badges.push(h('span', {
        class: 'badge badge-simulated',
        title: 'This data comes from Interchange\u2019s built-in simulator, not the live service.',
      }, 'Simulated data'));
    }
    if (data && data.freshness && data.freshness.stale === true) {
      const fetched = parseDate(data.freshness.fetchedAt);
      badges.push(h('span', {
        class: 'badge badge-stale',
        title: fetched
          ? `The live service failed; this copy was fetched at ${dateTimeFormat.format(fetched)}.`
          : 'The live service failed; this is a cached copy.',
      }, staleLabel(data.freshness.ageSeconds)));
    }
    return badges;
  }

  // ------------------------------------------------------------------------------------------
  // Condition icons (decorative inline SVG)
  // ------------------------------------------------------------------------------------------

  const CLOUD_PATH = 'M13 36 H35 A7 7 0 0 0 35 22 A10 10 0 0 0 16 20 A8 8 0 0 0 13 36 Z';

  function sunShape(cx, cy, r) {
    const group = s('g', { class: 'icon-sun' });
    group.appendChild(s('circle', { cx, cy, r, fill: '#f59e0b' }));
    for (let i = 0; i < 8; i += 1) {
      const angle = (Math.PI / 4) * i;
      group.appendChild(s('line', {
        x1: cx + Math.cos(angle) * (r + 3), y1: cy + Math.sin(angle) * (r + 3),
        x2: cx + Math.cos(angle) * (r + 7), y2: cy + Math.sin(angle) * (r + 7),
        stroke: '#f59e0b', 'stroke-width': 2.5, 'stroke-linecap': 'round',
      }));
    }
    return group;
  }

  function cloudShape(fill, dx = 0, dy = 0) {
    return s('path', { d: CLOUD_PATH, fill, transform: `translate(${dx} ${dy})` });
  }

  function drops(kind) {
    const group = s('g');
    const xs = [17, 24, 31];
    xs.forEach((x, i) => {
      if (kind === 'snow') {
        group.appendChild(s('circle', { cx: x, cy: 42 + (i % 2) * 2, r: 2, fill: '#64748b' }));
      } else if (kind === 'drizzle') {
        group.appendChild(s('circle', { cx: x, cy: 42 + (i % 2) * 2, r: 1.5, fill: '#2563eb' }));
      } else {
        group.appendChild(s('line', {
          x1: x + 1.5, y1: 39, x2: x - 1.5, y2: 46,
          stroke: '#2563eb', 'stroke-width': 2.5, 'stroke-linecap': 'round',
        }));
      }
    });
    return group;
  }

  /** A 48×48 icon for a Condition.code; size in px. Returns an <svg>. */
  function conditionIcon(code, size, x = 0, y = 0) {
    const icon = s('svg', {
      viewBox: '0 0 48 48', width: size, height: size, x, y,
      class: `condition-icon-svg condition-${code}`, 'aria-hidden': 'true', focusable: 'false',
    });
    switch (code) {
      case 'clear':
        icon.appendChild(sunShape(24, 24, 9));
        break;
      case 'partly-cloudy':
        icon.appendChild(sunShape(30, 17, 7));
        icon.appendChild(cloudShape('#94a3b8', -3, 4));
        break;
      case 'cloudy':
        icon.appendChild(cloudShape('#cbd5e1', 6, -6));
        icon.appendChild(cloudShape('#94a3b8', -2, 2));
        break;
      case 'fog':
        icon.appendChild(cloudShape('#cbd5e1', 0, -6));
        [32, 38, 44].forEach((lineY, i) => icon.appendChild(s('line', {
          x1: 10 + i * 2, y1: lineY, x2: 38 - i * 2, y2: lineY,
          stroke: '#64748b', 'stroke-width': 2.5, 'stroke-linecap': 'round',
        })));
        break;
      case 'drizzle':
      case 'rain':
      case 'snow':
        icon.appendChild(cloudShape('#94a3b8', 0, -4));
        icon.appendChild(drops(code));
        break;
      case 'showers':
        icon.appendChild(sunShape(31, 15, 6));
        icon.appendChild(cloudShape('#94a3b8', -2, -2));
        icon.appendChild(drops('rain'));
        break;
      case 'thunderstorm':
        icon.appendChild(cloudShape('#64748b', 0, -4));
        icon.appendChild(s('polygon', { points: '25,30 18,40 24,40 21,47 30,36 24,36 27,30', fill: '#f59e0b' }));
        break;
      default:
        icon.appendChild(cloudShape('#cbd5e1', 0, 0));
    }
    return icon;
  }

  // ------------------------------------------------------------------------------------------
  // Forecast chart (inline SVG)
  // ------------------------------------------------------------------------------------------

  function renderForecastChart(container, weather) {
    const days = Array.isArray(weather.forecast) ? weather.forecast.slice(0, 5) : [];
    const unit = (UNIT_LABELS[weather.units] || UNIT_LABELS.metric).temperature;
    const width = Math.max(288, Math.round(container.clientWidth || 640));
    const height = 300;
    const columnWidth = width / Math.max(1, days.length);
    const compact = columnWidth < 80;
    const barTop = compact ? 118 : 134;
    const barBottom = height - 58;

    const lows = days.map((d) => d.minimum).filter(isNumber);
    const highs = days.map((d) => d.maximum).filter(isNumber);
    let lo = lows.length ? Math.min(...lows) : 0;
    let hi = highs.length ? Math.max(...highs) : 1;
    if (hi - lo < 6) {
      const mid = (hi + lo) / 2;
      lo = mid - 3;
      hi = mid + 3;
    }
    const y = (value) => barBottom - ((value - lo) / (hi - lo)) * (barBottom - barTop);

    const cityName = weather.city && weather.city.name ? weather.city.name : 'the selected city';
    const descriptions = days.map((day) => {
      const date = parseCalendarDate(day.date);
      const label = date ? longDayFormat.format(date) : String(day.date);
      const condition = day.condition && day.condition.description ? `, ${day.condition.description}` : '';
      const rain = isNumber(day.precipitationProbability) ? `, ${day.precipitationProbability}% chance of precipitation` : '';
      return `${label}: low ${roundedDegrees(day.minimum)} ${unit}, high ${roundedDegrees(day.maximum)} ${unit}${condition}${rain}`;
    });

    const chart = s('svg', {
      id: 'forecast-chart',
      class: 'forecast-chart',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-labelledby': 'forecast-chart-title',
      'aria-describedby': 'forecast-chart-desc',
      'data-units': weather.units,
    });
    chart.appendChild(s('title', { id: 'forecast-chart-title' },
      `5-day forecast for ${cityName}: daily low and high temperatures in ${unit}`));
    chart.appendChild(s('desc', { id: 'forecast-chart-desc' }, descriptions.join('. ') + '.'));

    const defs = s('defs');
    const gradient = s('linearGradient', { id: 'forecast-bar-gradient', x1: 0, y1: 0, x2: 0, y2: 1 });
    gradient.appendChild(s('stop', { offset: '0%', 'stop-color': '#ea580c' }));
    gradient.appendChild(s('stop', { offset: '100%', 'stop-color': '#2563eb' }));
    defs.appendChild(gradient);
    chart.appendChild(defs);

    // Faint guide lines.
    const guides = s('g', { class: 'forecast-guides', 'aria-hidden': 'true' });
    for (let i = 0; i <= 3; i += 1) {
      const gy = barTop + ((barBottom - barTop) / 3) * i;
      guides.appendChild(s('line', { x1: 8, x2: width - 8, y1: gy, y2: gy, class: 'forecast-guide' }));
    }
    chart.appendChild(guides);

    const barWidth = Math.min(22, Math.max(12, columnWidth * 0.22));
    days.forEach((day, index) => {
      const cx = columnWidth * index + columnWidth / 2;
      const date = parseCalendarDate(day.date);
      const group = s('g', { class: 'forecast-day', 'data-date': String(day.date) });
      if (index > 0) {
        group.appendChild(s('line', {
          class: 'forecast-separator', x1: columnWidth * index, x2: columnWidth * index, y1: 12, y2: height - 12,
        }));
      }
      group.appendChild(s('text', { class: 'forecast-weekday', x: cx, y: 22, 'text-anchor': 'middle' },
        date ? weekdayFormat.format(date) : String(day.date)));
      group.appendChild(s('text', { class: 'forecast-date', x: cx, y: 40, 'text-anchor': 'middle' },
        date ? dayMonthFormat.format(date) : ''));
      const code = day.condition && day.condition.code;
      group.appendChild(conditionIcon(code, 34, cx - 17, 50));
      if (!compact && day.condition && day.condition.description) {
        // Keep the description short enough for its column.
        const text = capitalise(day.condition.description);
        const maxChars = Math.max(6, Math.floor(columnWidth / 7.2));
        group.appendChild(s('text', { class: 'forecast-condition', x: cx, y: 98, 'text-anchor': 'middle' },
          text.length > maxChars ? `${text.slice(0, maxChars - 1)}\u2026` : text));
      }

      if (isNumber(day.minimum) && isNumber(day.maximum)) {
        const top = y(Math.max(day.minimum, day.maximum));
        const bottom = y(Math.min(day.minimum, day.maximum));
        group.appendChild(s('rect', {
          class: 'forecast-bar', x: cx - barWidth / 2, y: top, width: barWidth,
          height: Math.max(barWidth, bottom - top), rx: barWidth / 2, fill: 'url(#forecast-bar-gradient)',
        }));
        group.appendChild(s('text', { class: 'forecast-max', x: cx, y: top - 8, 'text-anchor': 'middle' },
          `${roundedDegrees(day.maximum)}°`));
        group.appendChild(s('text', {
          class: 'forecast-min', x: cx, y: Math.max(bottom, top + barWidth) + 20, 'text-anchor': 'middle',
        }, `${roundedDegrees(day.minimum)}°`));
      }
      if (isNumber(day.precipitationProbability)) {
        group.appendChild(s('text', { class: 'forecast-precip', x: cx, y: height - 10, 'text-anchor': 'middle' },
          compact ? `${day.precipitationProbability}%` : `${day.precipitationProbability}% precip.`));
      }
      chart.appendChild(group);
    });

    clear(container).appendChild(chart);
  }

  // ------------------------------------------------------------------------------------------
  // Weather panel
  // ------------------------------------------------------------------------------------------

  const weather = {
    units: 'metric',
    query: null, // {city?, country?, lat?, lon?, label?}
    controller: null,
    data: null,
  };

  function setBusy(region, busy) {
    region.setAttribute('aria-busy', busy ? 'true' : 'false');
    region.classList.toggle('is-loading', busy);
    const indicator = region.querySelector(':scope > .loading-indicator');
    if (indicator) indicator.hidden = !busy;
  }

  function weatherParams(query, units) {
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

  /** "Paris, FR" → {city: "Paris", country: "FR"}; anything else is a plain city name. */
  function parseCityInput(text) {
    const match = /^(.*\S)\s*,\s*([A-Za-z]{2})$/.exec(text);
    if (match) return { city: match[1], country: match[2].toUpperCase(), label: text };
    return { city: text, label: text };
  }

  function showWeatherContent(visible) {
    $('weather-content').hidden = !visible;
    $('weather-empty').hidden = visible || weather.query !== null;
  }

  async function loadWeather(query) {
    if (weather.controller) weather.controller.abort();
    const controller = new AbortController();
    weather.controller = controller;
    weather.query = query;
    const panel = $('weather-panel');
    $('weather-empty').hidden = true;
    setBusy(panel, true);

    let result;
    try {
      result = await getJSON(`/api/weather?${weatherParams(query, weather.units)}`, controller.signal);
    } catch (error) {
      if (isAbort(error)) return;
      result = { status: 0, body: null, headers: new Headers(), networkError: error };
    }
    if (controller !== weather.controller) return; // superseded by a newer request
    weather.controller = null;
    setBusy(panel, false);

    const message = $('weather-message');
    if (result.status === 200 && result.body && result.body.current && Array.isArray(result.body.forecast)) {
      clear(message);
      $('city-input').removeAttribute('aria-invalid');
      renderWeather(result.body);
      rememberInUrl(query);
    } else if (result.status === 300 && result.body && Array.isArray(result.body.candidates)) {
      showWeatherContent(false);
      renderCandidates(query, result.body.candidates);
    } else {
      showWeatherContent(false);
      renderWeatherProblem(query, result);
    }
  }

  function renderWeatherProblem(query, result) {
    const message = problemMessage(result, { service: 'The weather service', cityQuery: query.label || query.city });
    const actions = message.retryable ? [{ label: 'Try again', onClick: () => loadWeather(query) }] : [];
    showAlert($('weather-message'), message, actions);
    if (message.kind === 'city-not-found' || message.kind === 'invalid-parameter') {
      $('city-input').setAttribute('aria-invalid', 'true');
    }
  }

  function candidateLabels(candidates) {
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

  function queryForCandidate(candidate, label) {
    return {
      city: candidate.name,
      country: candidate.country,
      lat: candidate.latitude,
      lon: candidate.longitude,
      label,
    };
  }

  function renderCandidates(query, candidates) {
    const container = $('weather-message');
    const name = query.label || query.city || '';
    if (candidates.length === 0) {
      showAlert(container, { tone: 'error', text: `We couldn't find a city called \u201C${name}\u201D.` });
      return;
    }
    showAlert(container, {
      tone: 'info',
      text: `Several places are called \u201C${name}\u201D. Which one did you mean?`,
    });
    const labels = candidateLabels(candidates);
    const list = h('ul', { class: 'candidates', 'aria-label': `Places called ${name}` });
    candidates.forEach((candidate, i) => {
      const button = h('button', {
        type: 'button',
        class: 'candidate',
        'data-country': candidate.country,
        'data-lat': candidate.latitude,
        'data-lon': candidate.longitude,
      },
      h('span', { class: 'candidate-name' }, candidate.name),
      h('span', { class: 'candidate-place' }, labels[i].slice(String(candidate.name).length).replace(/^,\s*/, '')));
      button.addEventListener('click', () => {
        $('city-input').value = labels[i];
        combobox.picked = { value: labels[i], candidate };
        loadWeather(queryForCandidate(candidate, labels[i]));
      });
      list.appendChild(h('li', null, button));
    });
    container.appendChild(list);
  }

  function renderWeather(data) {
    weather.data = data;
    const units = UNIT_LABELS[data.units] || UNIT_LABELS.metric;
    const current = data.current || {};

    clear($('weather-badges'));
    append($('weather-badges'), badgesFor(data));
    const provider = data.source && SERVICE_NAMES[data.source.provider];
    if (provider) append($('weather-badges'), [h('span', { class: 'badge badge-provider' }, `via ${provider}`)]);

    const location = clear($('current-location'));
    append(location, [
      h('span', { class: 'location-name' }, data.city && data.city.name ? data.city.name : ''),
      h('span', { class: 'location-rest' }, [
        data.city && data.city.region && data.city.region !== data.city.name ? data.city.region : null,
        data.city && data.city.country ? countryName(data.city.country) : null,
      ].filter(Boolean).join(', ')),
    ]);

    const temperature = clear($('current-temperature'));
    append(temperature, [
      h('span', { class: 'temperature-number' }, roundedDegrees(current.temperature)),
      h('span', { id: 'current-temperature-unit', class: 'temperature-unit' }, units.temperature),
    ]);
    $('current-feels-like').textContent = `${roundedDegrees(current.feelsLike)}${units.temperature}`;
    $('current-humidity').textContent = isNumber(current.humidity) ? `${integerFormat.format(current.humidity)}%` : '—';
    $('current-wind').textContent = isNumber(current.windSpeed) ? `${decimalFormat.format(current.windSpeed)} ${units.wind}` : '—';
    const condition = current.condition || {};
    $('current-condition').textContent = capitalise(condition.description) || capitalise(condition.code);
    clear($('current-icon')).appendChild(conditionIcon(condition.code, 72));

    const observed = parseDate(current.observedAt);
    const observedEl = $('current-observed');
    if (observed) {
      observedEl.setAttribute('datetime', observed.toISOString());
      observedEl.setAttribute('title', dateTimeFormat.format(observed));
      observedEl.textContent = `${timeFormat.format(observed)} (${relativeTime(observed)})`;
    } else {
      observedEl.removeAttribute('datetime');
      observedEl.textContent = '—';
    }

    showWeatherContent(true);
    renderForecastChart($('forecast-chart-container'), data);
    $('city-status').textContent = `Showing the weather for ${placeLabel(data.city)}.`;
  }

  function rememberInUrl(query) {
    if (!window.history || !window.history.replaceState) return;
    const params = weatherParams(query, weather.units);
    try {
      window.history.replaceState(null, '', `${window.location.pathname}?${params}`);
    } catch (_) {
      // Ignore: a sandboxed document may refuse it.
    }
  }

  // ------------------------------------------------------------------------------------------
  // City search: ARIA 1.2 combobox with a listbox popup
  // ------------------------------------------------------------------------------------------

  const combobox = {
    input: null,
    listbox: null,
    status: null,
    items: [],
    labels: [],
    active: -1,
    timer: null,
    controller: null,
    picked: null, // {value, candidate}: the suggestion the input's text came from
  };

  function isListboxOpen() {
    return !combobox.listbox.hidden;
  }

  function closeListbox() {
    combobox.listbox.hidden = true;
    combobox.input.setAttribute('aria-expanded', 'false');
    combobox.input.removeAttribute('aria-activedescendant');
    combobox.active = -1;
  }

  function openListbox() {
    if (!combobox.items.length) return;
    combobox.listbox.hidden = false;
    combobox.input.setAttribute('aria-expanded', 'true');
  }

  function setActiveOption(index) {
    const options = combobox.listbox.querySelectorAll('[role="option"]');
    combobox.active = index;
    options.forEach((option, i) => {
      const active = i === index;
      option.setAttribute('aria-selected', active ? 'true' : 'false');
      option.classList.toggle('is-active', active);
      if (active) {
        combobox.input.setAttribute('aria-activedescendant', option.id);
        if (option.scrollIntoView) option.scrollIntoView({ block: 'nearest' });
      }
    });
    if (index < 0) combobox.input.removeAttribute('aria-activedescendant');
  }

  function cancelSuggestions() {
    clearTimeout(combobox.timer);
    combobox.timer = null;
    if (combobox.controller) combobox.controller.abort();
    combobox.controller = null;
  }

  function scheduleSuggestions() {
    cancelSuggestions();
    const query = combobox.input.value.trim();
    if (query.length < SUGGEST_MIN_CHARS) {
      combobox.items = [];
      clear(combobox.listbox);
      closeListbox();
      return;
    }
    combobox.timer = setTimeout(() => fetchSuggestions(query), SUGGEST_DELAY_MS);
  }

  async function fetchSuggestions(query) {
    const controller = new AbortController();
    combobox.controller = controller;
    let result;
    try {
      result = await getJSON(`/api/cities?q=${encodeURIComponent(query)}`, controller.signal);
    } catch (error) {
      if (isAbort(error)) return;
      return;
    }
    if (controller !== combobox.controller || combobox.input.value.trim() !== query) return;
    combobox.controller = null;
    if (result.status !== 200 || !result.body || !Array.isArray(result.body.candidates)) {
      combobox.items = [];
      closeListbox();
      combobox.status.textContent = 'Suggestions are unavailable right now.';
      return;
    }
    renderSuggestions(result.body.candidates);
  }

  function renderSuggestions(candidates) {
    combobox.items = candidates.slice(0, 8);
    combobox.labels = candidateLabels(combobox.items);
    clear(combobox.listbox);
    combobox.items.forEach((candidate, i) => {
      const rest = combobox.labels[i].slice(String(candidate.name).length).replace(/^,\s*/, '');
      const option = h('li', {
        id: `city-option-${i}`,
        role: 'option',
        class: 'option',
        'aria-selected': 'false',
        'data-country': candidate.country,
      },
      h('span', { class: 'option-name' }, candidate.name),
      rest ? h('span', { class: 'option-place' }, rest) : null);
      // Keep focus in the input when an option is clicked.
      option.addEventListener('mousedown', (event) => event.preventDefault());
      option.addEventListener('click', () => chooseSuggestion(i));
      combobox.listbox.appendChild(option);
    });
    if (combobox.items.length) {
      openListbox();
      setActiveOption(-1);
      const n = combobox.items.length;
      combobox.status.textContent = `${n} suggestion${n === 1 ? '' : 's'}. Use the up and down arrow keys to choose.`;
    } else {
      closeListbox();
      combobox.status.textContent = 'No matching cities.';
    }
  }

  function chooseSuggestion(index) {
    const candidate = combobox.items[index];
    if (!candidate) return;
    const label = combobox.labels[index];
    combobox.input.value = label;
    combobox.picked = { value: label, candidate };
    cancelSuggestions();
    closeListbox();
    loadWeather(queryForCandidate(candidate, label));
  }

  function onComboboxKeydown(event) {
    const count = combobox.items.length;
    switch (event.key) {
      case 'ArrowDown':
        if (!count) return;
        event.preventDefault();
        if (!isListboxOpen()) {
          openListbox();
          setActiveOption(0);
        } else {
          setActiveOption((combobox.active + 1) % count);
        }
        break;
      case 'ArrowUp':
        if (!count) return;
        event.preventDefault();
        if (!isListboxOpen()) {
          openListbox();
          setActiveOption(count - 1);
        } else {
          setActiveOption(combobox.active <= 0 ? count - 1 : combobox.active - 1);
        }
        break;
      case 'Enter':
        if (isListboxOpen() && combobox.active >= 0) {
          event.preventDefault();
          chooseSuggestion(combobox.active);
        }
        // Otherwise the form submits.
        break;
      case 'Escape':
        if (isListboxOpen()) {
          event.preventDefault();
          cancelSuggestions();
          closeListbox();
        } else if (combobox.input.value) {
          event.preventDefault();
          combobox.input.value = '';
          combobox.picked = null;
          combobox.items = [];
        }
        break;
      case 'Tab':
        closeListbox();
        break;
      default:
        break;
    }
  }

  function onCitySubmit(event) {
    event.preventDefault();
    cancelSuggestions();
    closeListbox();
    const input = combobox.input;
    const text = input.value.trim();
    if (!text) {
      input.setAttribute('aria-invalid', 'true');
      showAlert($('weather-message'), { tone: 'error', text: 'Enter a city name to search for.' });
      input.focus();
      return;
    }
    if (combobox.picked && combobox.picked.value === input.value) {
      loadWeather(queryForCandidate(combobox.picked.candidate, combobox.picked.value));
    } else {
      combobox.picked = null;
      loadWeather(parseCityInput(text));
    }
  }

  function initCitySearch() {
    combobox.input = $('city-input');
    combobox.listbox = $('city-listbox');
    combobox.status = $('city-status');
    combobox.input.addEventListener('input', () => {
      combobox.picked = null;
      combobox.input.removeAttribute('aria-invalid');
      scheduleSuggestions();
    });
    combobox.input.addEventListener('keydown', onComboboxKeydown);
    combobox.input.addEventListener('blur', () => closeListbox());
    combobox.input.addEventListener('focus', () => {
      if (combobox.items.length && combobox.input.value.trim().length >= SUGGEST_MIN_CHARS && !combobox.picked) {
        openListbox();
      }
    });
    $('city-form').addEventListener('submit', onCitySubmit);
  }

  function initUnits() {
    for (const radio of document.querySelectorAll('input[name="units"]')) {
      radio.addEventListener('change', () => {
        if (!radio.checked) return;
        weather.units = radio.value === 'imperial' ? 'imperial' : 'metric';
        if (weather.query) loadWeather(weather.query);
      });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Repository cards
  // ------------------------------------------------------------------------------------------

  const repos = new Map(); // lower-case "owner/name" → {spec, card, controller}
  let repoCounter = 0;

  function updateRepoListBusy() {
    const busy = Array.from(repos.values()).some((entry) => entry.controller !== null);
    $('repo-list').setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function parseRepoInput(text) {
    let value = text.trim();
    value = value.replace(/^https?:\/\/(www\.)?github\.com\//i, '').replace(/\.git$/i, '').replace(/\/+$/, '');
    const match = /^([^/\s]+)\/([^/\s]+)$/.exec(value);
    return match ? { owner: match[1], name: match[2], spec: `${match[1]}/${match[2]}` } : null;
  }

  function skeleton() {
    return h('div', { class: 'skeleton', 'aria-hidden': 'true' },
      h('span', { class: 'skeleton-line skeleton-title' }),
      h('span', { class: 'skeleton-line' }),
      h('span', { class: 'skeleton-line skeleton-short' }),
      h('span', { class: 'skeleton-block' }));
  }

  function addRepo(repo, options = {}) {
    const key = repo.spec.toLowerCase();
    const existing = repos.get(key);
    if (existing) {
      loadRepo(existing);
      if (options.focus) existing.card.focus();
      return existing;
    }
    repoCounter += 1;
    const card = h('article', {
      class: 'repo-card card',
      'data-repo': repo.spec,
      'aria-busy': 'true',
      'aria-labelledby': `repo-title-${repoCounter}`,
      tabindex: '-1',
    });
    const entry = { ...repo, card, controller: null, id: repoCounter };
    repos.set(key, entry);
    // Cards the user adds go first, where they can see them; the defaults keep their order.
    if (options.prepend) $('repo-list').prepend(card);
    else $('repo-list').appendChild(card);
    loadRepo(entry);
    if (options.focus) card.focus();
    return entry;
  }

  function removeRepo(entry) {
    if (entry.controller) entry.controller.abort();
    entry.controller = null;
    repos.delete(entry.spec.toLowerCase());
    entry.card.remove();
    updateRepoListBusy();
    $('repo-input').focus();
  }

  function cardHeader(entry, titleContent, badges) {
    const remove = h('button', {
      type: 'button',
      class: 'icon-button repo-remove',
      'aria-label': `Remove ${entry.spec}`,
      title: `Remove ${entry.spec}`,
    }, '\u00D7');
    remove.addEventListener('click', () => removeRepo(entry));
    return h('div', { class: 'card-head repo-card-head' },
      h('h3', { id: `repo-title-${entry.id}`, class: 'repo-title' }, titleContent),
      h('div', { class: 'badges' }, badges || []),
      remove);
  }

  async function loadRepo(entry) {
    if (entry.controller) entry.controller.abort();
    const controller = new AbortController();
    entry.controller = controller;
    const card = entry.card;
    card.setAttribute('aria-busy', 'true');
    card.classList.add('is-loading');
    if (!card.firstChild || card.classList.contains('has-error')) {
      card.classList.remove('has-error');
      clear(card);
      append(card, [
        cardHeader(entry, entry.spec),
        h('p', { class: 'loading-indicator' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `Loading ${entry.spec}\u2026`),
        skeleton(),
      ]);
    }
    updateRepoListBusy();

    const url = `/api/repos/${encodeURIComponent(entry.owner)}/${encodeURIComponent(entry.name)}`;
    let result;
    try {
      result = await getJSON(url, controller.signal);
    } catch (error) {
      if (isAbort(error)) return;
      result = { status: 0, body: null, headers: new Headers(), networkError: error };
    }
    if (controller !== entry.controller) return;
    entry.controller = null;
    card.setAttribute('aria-busy', 'false');
    card.classList.remove('is-loading');
    if (result.status === 200 && result.body && typeof result.body.nameWithOwner === 'string') {
      renderRepoCard(entry, result.body);
    } else {
      renderRepoProblem(entry, result);
    }
    updateRepoListBusy();
  }

  function renderRepoProblem(entry, result) {
    const card = entry.card;
    card.classList.add('has-error');
    clear(card);
    card.appendChild(cardHeader(entry, entry.spec));
    const message = problemMessage(result, { service: 'GitHub', repo: entry.spec });
    const area = h('div', { class: 'message-area' });
    card.appendChild(area);
    const actions = message.retryable ? [{ label: 'Try again', onClick: () => loadRepo(entry) }] : [];
    showAlert(area, message, actions);
  }

  function stat(label, value, className) {
    return h('div', { class: 'stat' },
      h('dt', null, label),
      h('dd', { class: className, 'data-value': isNumber(value) ? value : '' }, formatCount(value)));
  }

  function formatPercent(value) {
    return value < 0.05 ? '<0.1%' : `${decimalFormat.format(value)}%`;
  }

  function languageSection(repo) {
    const languages = Array.isArray(repo.languages) ? repo.languages.filter((l) => l && isNumber(l.percent)) : [];
    if (!languages.length) return null;
    const summary = languages.map((l) => `${l.name} ${formatPercent(l.percent)}`).join(', ');
    const bar = h('div', { class: 'lang-bar', role: 'img', 'aria-label': `Languages: ${summary}` });
    const legend = h('ul', { class: 'lang-legend' });
    for (const language of languages) {
      const color = safeColor(language.color, '#6b7280');
      const segment = h('span', { class: 'lang-segment', title: `${language.name} ${formatPercent(language.percent)}` });
      segment.style.width = `${Math.max(0, Math.min(100, language.percent))}%`;
      segment.style.backgroundColor = color;
      bar.appendChild(segment);
      const dot = h('span', { class: 'lang-dot', 'aria-hidden': 'true' });
      dot.style.backgroundColor = color;
      legend.appendChild(h('li', null, dot, h('span', { class: 'lang-name' }, language.name),
        h('span', { class: 'lang-percent' }, formatPercent(language.percent))));
    }
    return h('section', { class: 'repo-section repo-languages' },
      h('h4', null, 'Languages'), bar, legend);
  }

  function releaseSection(repo) {
    const release = repo.latestRelease;
    if (!release || !release.tagName) return null;
    const published = parseDate(release.publishedAt);
    const url = safeHttpUrl(release.url);
    const tag = url ? h('a', { href: url, class: 'release-tag' }, release.tagName) : h('span', { class: 'release-tag' }, release.tagName);
    return h('p', { class: 'repo-release' },
      h('span', { class: 'meta-label' }, 'Latest release'), ' ', tag,
      release.name && release.name !== release.tagName ? h('span', { class: 'release-name' }, ` \u201C${release.name}\u201D`) : null,
      published ? [' \u00B7 ', timeElement(published, `${dateFormat.format(published)} (${relativeTime(published)})`)] : null);
  }

  function commitsSection(repo) {
    const commits = Array.isArray(repo.recentCommits) ? repo.recentCommits.slice(0, 5) : [];
    if (!commits.length) return null;
    const list = h('ol', { class: 'commit-list' });
    for (const commit of commits) {
      const oid = typeof commit.oid === 'string' ? commit.oid.slice(0, 7) : '';
      const url = safeHttpUrl(commit.url);
      const oidNode = url
        ? h('a', { href: url, class: 'commit-oid', 'aria-label': `Commit ${oid}` }, h('code', null, oid))
        : h('code', { class: 'commit-oid' }, oid);
      const when = parseDate(commit.committedAt);
      list.appendChild(h('li', { class: 'commit' },
        oidNode,
        h('span', { class: 'commit-message' }, commit.message || ''),
        h('span', { class: 'commit-meta' },
          commit.author ? h('span', { class: 'commit-author' }, commit.author) : null,
          commit.author && when ? ' \u00B7 ' : null,
          when ? timeElement(when, relativeTime(when)) : null)));
    }
    return h('section', { class: 'repo-section repo-commits' }, h('h4', null, 'Recent commits'), list);
  }

  function rateLimitFooter(repo) {
    const limit = repo.rateLimit;
    if (!limit || !isNumber(limit.remaining)) return null;
    const reset = parseDate(limit.resetAt);
    let resetText = null;
    if (reset) {
      resetText = reset.getTime() > Date.now()
        ? [' \u00B7 resets ', timeElement(reset, retryPhrase(reset))]
        : [' \u00B7 reset ', timeElement(reset, timeFormat.format(reset))];
    }
    return h('p', { class: 'repo-rate-limit' },
      'GitHub API: ', h('strong', null, formatCount(limit.remaining)), ' requests left', resetText);
  }

  function renderRepoCard(entry, repo) {
    const card = entry.card;
    card.classList.remove('has-error');
    const url = safeHttpUrl(repo.url) || `https://github.com/${encodeURIComponent(entry.owner)}/${encodeURIComponent(entry.name)}`;
    const title = h('a', { href: url, class: 'repo-link' }, repo.nameWithOwner);
    const primary = repo.primaryLanguage && repo.primaryLanguage.name ? repo.primaryLanguage : null;
    let primaryNode = null;
    if (primary) {
      const dot = h('span', { class: 'lang-dot', 'aria-hidden': 'true' });
      dot.style.backgroundColor = safeColor(primary.color, '#6b7280');
      primaryNode = h('p', { class: 'repo-primary-language' },
        h('span', { class: 'meta-label' }, 'Primary language'), ' ', dot, h('span', null, primary.name));
    }
    clear(card);
    append(card, [
      cardHeader(entry, title, badgesFor(repo)),
      repo.description ? h('p', { class: 'repo-description' }, repo.description) : h('p', { class: 'repo-description is-empty' }, 'No description.'),
      h('dl', { class: 'repo-stats' },
        stat('Stars', repo.stars, 'repo-stars'),
        stat('Forks', repo.forks, 'repo-forks'),
        stat('Open issues', repo.openIssues, 'repo-issues'),
        stat('Open PRs', repo.openPullRequests, 'repo-prs')),
      primaryNode,
      languageSection(repo),
      releaseSection(repo),
      commitsSection(repo),
      rateLimitFooter(repo),
    ]);
  }

  function initRepos() {
    const form = $('repo-form');
    const input = $('repo-input');
    const errorArea = $('repo-form-error');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const repo = parseRepoInput(input.value);
      if (!repo) {
        input.setAttribute('aria-invalid', 'true');
        showAlert(errorArea, { tone: 'error', text: 'Enter a repository as owner/name, for example apple/swift-nio.' });
        input.focus();
        return;
      }
      input.removeAttribute('aria-invalid');
      clear(errorArea);
      input.value = '';
      addRepo(repo, { focus: true, prepend: true });
    });
    input.addEventListener('input', () => {
      if (input.getAttribute('aria-invalid')) {
        input.removeAttribute('aria-invalid');
        clear(errorArea);
      }
    });
    for (const spec of DEFAULT_REPOS) addRepo(parseRepoInput(spec));
  }

  // ------------------------------------------------------------------------------------------
  // Start-up
  // ------------------------------------------------------------------------------------------

  function initChartResize() {
    const container = $('forecast-chart-container');
    if (!('ResizeObserver' in window)) return;
    let lastWidth = 0;
    let frame = 0;
    const observer = new ResizeObserver((entries) => {
      const width = Math.round(entries[0].contentRect.width);
      if (!weather.data || Math.abs(width - lastWidth) < 8) return;
      lastWidth = width;
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => renderForecastChart(container, weather.data));
    });
    observer.observe(container);
  }

  /** A shared link (?city=…&units=…) restores the search. */
  function restoreFromUrl() {
    const params = new URLSearchParams(window.location.search);
    const units = params.get('units');
    if (units === 'imperial' || units === 'metric') {
      weather.units = units;
      $(`units-${units}`).checked = true;
    }
    const city = params.get('city') || '';
    const lat = Number.parseFloat(params.get('lat'));
    const lon = Number.parseFloat(params.get('lon'));
    const country = params.get('country') || '';
    if (city || (Number.isFinite(lat) && Number.isFinite(lon))) {
      const query = { label: city ? (country ? `${city}, ${country}` : city) : `${lat}, ${lon}` };
      if (city) query.city = city;
      if (country) query.country = country;
      if (Number.isFinite(lat) && Number.isFinite(lon)) {
        query.lat = lat;
        query.lon = lon;
      }
      $('city-input').value = query.label;
      loadWeather(query);
    }
  }

  function init() {
    const checked = document.querySelector('input[name="units"]:checked');
    weather.units = checked && checked.value === 'imperial' ? 'imperial' : 'metric';
    initCitySearch();
    initUnits();
    initChartResize();
    initRepos();
    restoreFromUrl();
    document.documentElement.classList.add('js-ready');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
