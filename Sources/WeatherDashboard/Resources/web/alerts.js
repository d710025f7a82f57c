/*
 * Alerts (role=alert) and the badges on weather and repository cards.
 */

import { clear, h } from './dom.js';
import { dateTimeFormat, parseDate, staleLabel } from './format.js';

/** Renders a role=alert box into container; actions are {label, onClick, className}. */
export function showAlert(container, message, actions = []) {
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

/** "Simulated data" and "Stale (cached … ago)" badges for an answer's source and freshness. */
export function badgesFor(data) {
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
