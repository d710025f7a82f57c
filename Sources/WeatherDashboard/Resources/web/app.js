/*
 * Interchange weather & repository dashboard — browser front-end, entry module.
 *
 * Plain ES modules (ES2020 plus top-level await), no build step, no dependencies, no network access beyond
 * this origin's /assets/* and /api/*. CSP-friendly (works under `default-src 'self'`): no inline handlers, no
 * inline style attributes (styles are set through the CSSOM), no eval.
 *
 * Security: every string that comes from the API is inserted with textContent / createElement /
 * setAttribute, never with innerHTML; links from the API are accepted only when they are http(s).
 *
 * API contract: openapi/weather-dashboard.yaml. Modules, by concern (docs/weather-dashboard.md):
 *   format.js, input.js, problems.js, forecast-layout.js — pure, unit-tested with `node --test` (tests/web);
 *   api.js (fetch), dom.js, alerts.js, icons.js, forecast-chart.js — building blocks;
 *   weather-panel.js, city-search.js, repo-cards.js — the page's three parts.
 */

import { loadProblemTypes } from './api.js';
import { initCitySearch, rememberPick } from './city-search.js';
import { initRepos } from './repo-cards.js';
import { initWeatherPanel, restoreFromUrl } from './weather-panel.js';

// problem-types.json: the problem `type` URIs, as the server names them (null if it cannot be loaded).
const problemTypes = await loadProblemTypes();

function init() {
  initCitySearch();
  initWeatherPanel({ problemTypes, onCandidateChosen: rememberPick });
  initRepos(problemTypes);
  restoreFromUrl();
  document.documentElement.classList.add('js-ready');
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
