/*
 * The weather panel: loads /api/weather for a query and shows the current conditions and the forecast chart,
 * the candidates of an ambiguous name (HTTP 300), or the problem.
 */

import { showAlert, badgesFor } from './alerts.js';
import { getJSON, isAbort } from './api.js';
import { $, append, clear, h } from './dom.js';
import {
  SERVICE_NAMES,
  UNIT_LABELS,
  candidateLabels,
  capitalise,
  countryName,
  dateTimeFormat,
  decimalFormat,
  integerFormat,
  isNumber,
  parseDate,
  placeLabel,
  relativeTime,
  roundedDegrees,
  timeFormat,
} from './format.js';
import { renderForecastChart } from './forecast-chart.js';
import { conditionIcon } from './icons.js';
import { queryForCandidate, searchFromParams, weatherParams } from './input.js';
import { problemMessage } from './problems.js';

const weather = {
  units: 'metric',
  query: null, // {city?, country?, lat?, lon?, label?}
  controller: null,
  data: null,
  problemTypes: null, // problem-types.json
  onCandidateChosen: null, // (label, candidate): the city input now shows a chosen place
};

function setBusy(region, busy) {
  region.setAttribute('aria-busy', busy ? 'true' : 'false');
  region.classList.toggle('is-loading', busy);
  const indicator = region.querySelector(':scope > .loading-indicator');
  if (indicator) indicator.hidden = !busy;
}

function showWeatherContent(visible) {
  $('weather-content').hidden = !visible;
  $('weather-empty').hidden = visible || weather.query !== null;
}

/** Loads and shows the weather for `query`; a newer call supersedes an unfinished one. */
export async function loadWeather(query) {
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
    throw error;
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
  const message = problemMessage(result, { service: 'The weather service', cityQuery: query.label || query.city }, weather.problemTypes);
  const actions = message.retryable ? [{ label: 'Try again', onClick: () => loadWeather(query) }] : [];
  showAlert($('weather-message'), message, actions);
  if (message.kind === 'cityNotFound' || message.kind === 'invalidParameter') {
    $('city-input').setAttribute('aria-invalid', 'true');
  }
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
      if (weather.onCandidateChosen) weather.onCandidateChosen(labels[i], candidate);
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

function initUnits() {
  const checked = document.querySelector('input[name="units"]:checked');
  weather.units = checked && checked.value === 'imperial' ? 'imperial' : 'metric';
  for (const radio of document.querySelectorAll('input[name="units"]')) {
    radio.addEventListener('change', () => {
      if (!radio.checked) return;
      weather.units = radio.value === 'imperial' ? 'imperial' : 'metric';
      if (weather.query) loadWeather(weather.query);
    });
  }
}

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

/**
 * Wires the units radio group and the chart's resizing. `problemTypes` is problem-types.json (or null);
 * `onCandidateChosen(label, candidate)` hears when a candidate button fills the city input.
 */
export function initWeatherPanel({ problemTypes, onCandidateChosen }) {
  weather.problemTypes = problemTypes;
  weather.onCandidateChosen = onCandidateChosen;
  initUnits();
  initChartResize();
}

/** A shared link (?city=…&units=…) restores the search. */
export function restoreFromUrl() {
  const { units, query } = searchFromParams(new URLSearchParams(window.location.search));
  if (units) {
    weather.units = units;
    $(`units-${units}`).checked = true;
  }
  if (query) {
    $('city-input').value = query.label;
    loadWeather(query);
  }
}
