/*
 * DOM helpers, text only: nothing here parses HTML. Every string from the API reaches the page through
 * textContent / createTextNode / setAttribute.
 */

import { dateTimeFormat } from './format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

export function append(parent, children) {
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
export function h(tag, attrs, ...children) {
  return append(applyAttrs(document.createElement(tag), attrs), children);
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  return append(applyAttrs(document.createElementNS(SVG_NS, tag), attrs), children);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function $(id) {
  return document.getElementById(id);
}

/** <time datetime=…> with the full date and time as its tooltip. */
export function timeElement(date, text) {
  return h('time', { datetime: date.toISOString(), title: dateTimeFormat.format(date) }, text);
}
