/*
 * The 5-day forecast chart: inline SVG drawn from forecast-layout.js's geometry.
 */

import { clear, s } from './dom.js';
import { dayMonthFormat, isNumber, parseCalendarDate, roundedDegrees, weekdayFormat } from './format.js';
import { forecastLayout } from './forecast-layout.js';
import { conditionIcon } from './icons.js';

/** Draws the chart for a Weather answer into `container`, as wide as the container. */
export function renderForecastChart(container, weather) {
  const layout = forecastLayout(weather, container.clientWidth);
  const { width, height, compact } = layout;

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
  chart.appendChild(s('title', { id: 'forecast-chart-title' }, layout.title));
  chart.appendChild(s('desc', { id: 'forecast-chart-desc' }, layout.description));

  const defs = s('defs');
  const gradient = s('linearGradient', { id: 'forecast-bar-gradient', x1: 0, y1: 0, x2: 0, y2: 1 });
  gradient.appendChild(s('stop', { offset: '0%', 'stop-color': '#ea580c' }));
  gradient.appendChild(s('stop', { offset: '100%', 'stop-color': '#2563eb' }));
  defs.appendChild(gradient);
  chart.appendChild(defs);

  // Faint guide lines.
  const guides = s('g', { class: 'forecast-guides', 'aria-hidden': 'true' });
  for (const gy of layout.guides) {
    guides.appendChild(s('line', { x1: 8, x2: width - 8, y1: gy, y2: gy, class: 'forecast-guide' }));
  }
  chart.appendChild(guides);

  for (const { day, cx, separatorX, condition, bar } of layout.days) {
    const date = parseCalendarDate(day.date);
    const group = s('g', { class: 'forecast-day', 'data-date': String(day.date) });
    if (separatorX !== null) {
      group.appendChild(s('line', {
        class: 'forecast-separator', x1: separatorX, x2: separatorX, y1: 12, y2: height - 12,
      }));
    }
    group.appendChild(s('text', { class: 'forecast-weekday', x: cx, y: 22, 'text-anchor': 'middle' },
      date ? weekdayFormat.format(date) : String(day.date)));
    group.appendChild(s('text', { class: 'forecast-date', x: cx, y: 40, 'text-anchor': 'middle' },
      date ? dayMonthFormat.format(date) : ''));
    group.appendChild(conditionIcon(day.condition && day.condition.code, 34, cx - 17, 50));
    if (condition) {
      group.appendChild(s('text', { class: 'forecast-condition', x: cx, y: 98, 'text-anchor': 'middle' }, condition));
    }
    if (bar) {
      group.appendChild(s('rect', {
        class: 'forecast-bar', x: bar.x, y: bar.y, width: bar.width,
        height: bar.height, rx: bar.rx, fill: 'url(#forecast-bar-gradient)',
      }));
      group.appendChild(s('text', { class: 'forecast-max', x: cx, y: bar.maxLabelY, 'text-anchor': 'middle' },
        `${roundedDegrees(day.maximum)}°`));
      group.appendChild(s('text', { class: 'forecast-min', x: cx, y: bar.minLabelY, 'text-anchor': 'middle' },
        `${roundedDegrees(day.minimum)}°`));
    }
    if (isNumber(day.precipitationProbability)) {
      group.appendChild(s('text', { class: 'forecast-precip', x: cx, y: height - 10, 'text-anchor': 'middle' },
        compact ? `${day.precipitationProbability}%` : `${day.precipitationProbability}% precip.`));
    }
    chart.appendChild(group);
  }

  clear(container).appendChild(chart);
}
