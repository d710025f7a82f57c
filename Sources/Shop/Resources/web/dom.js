/*
 * DOM helpers, text only: nothing here parses HTML. Every string from the API reaches the page through
 * textContent / createTextNode / setAttribute. (The same small helpers as the dashboard's dom.js: the two pages
 * are separate bundles served from separate paths, so each carries its own copy.)
 */

export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (typeof child === 'string' || typeof child === 'number') parent.appendChild(document.createTextNode(String(child)));
    else parent.appendChild(child);
  }
  return parent;
}

/** h('p', {class: 'x'}, 'text', child, …) */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(key, value === true ? '' : String(value));
  }
  return append(node, children);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function $(id) {
  return document.getElementById(id);
}

/** Renders a role=alert box into `container`; actions are {label, onClick, className?}. */
export function showAlert(container, message, actions = []) {
  clear(container);
  const box = h('div', { class: `alert alert-${message.tone || 'error'}`, role: 'alert' },
    h('p', { class: 'alert-text' }, message.text),
    message.hint ? h('p', { class: 'alert-hint' }, message.hint) : null);
  if (actions.length) {
    const row = h('div', { class: 'alert-actions' });
    for (const action of actions) {
      const button = h('button', { type: 'button', class: action.className || 'button button-secondary' }, action.label);
      button.addEventListener('click', action.onClick);
      row.appendChild(button);
    }
    box.appendChild(row);
  }
  container.appendChild(box);
  return box;
}

/** Sets a polite live region's text (screen readers announce the change; an unchanged text is not repeated). */
export function announce(region, text) {
  if (region.textContent !== text) region.textContent = text;
}
