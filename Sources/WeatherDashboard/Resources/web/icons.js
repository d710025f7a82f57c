/*
 * Condition icons: decorative inline SVG (aria-hidden), one per Condition.code.
 */

import { s } from './dom.js';

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
export function conditionIcon(code, size, x = 0, y = 0) {
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
