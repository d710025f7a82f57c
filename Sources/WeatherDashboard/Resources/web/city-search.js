/*
 * City search: an ARIA 1.2 combobox with a listbox popup of suggestions from /api/cities, and the search form.
 */

import { showAlert } from './alerts.js';
import { getJSON, isAbort } from './api.js';
import { $, clear, h } from './dom.js';
import { candidateLabels } from './format.js';
import { parseCityInput, queryForCandidate } from './input.js';
import { loadWeather } from './weather-panel.js';

const SUGGEST_DELAY_MS = 250;
const SUGGEST_MIN_CHARS = 2;

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

/** The input now shows `label`, the place `candidate` chosen elsewhere (a candidate button): submitting it uses its coordinates. */
export function rememberPick(label, candidate) {
  combobox.picked = { value: label, candidate };
}

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
    if (isAbort(error)) return; // superseded by newer typing
    throw error;
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

/** Wires the city search: suggestions while typing, and the form's submit. */
export function initCitySearch() {
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
