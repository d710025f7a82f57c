/*
 * What the 5-day forecast chart shows and where: columns, the temperature scale, each day's bar and labels,
 * and the text alternative. Pure (no DOM): forecast-chart.js draws it; tests/web/forecast-layout.test.mjs
 * checks the geometry.
 */

import { UNIT_LABELS, capitalise, isNumber, longDayFormat, parseCalendarDate, roundedDegrees } from './format.js';

export const CHART_HEIGHT = 300;
/** Below this column width the chart drops the condition text and shortens the precipitation label. */
const COMPACT_COLUMN = 80;
/** The scale spans at least this many degrees, so a flat week does not fill the chart with noise. */
const MINIMUM_SPAN = 6;

/** A condition text cut to `maxChars`, with an ellipsis when cut. */
export function truncate(text, maxChars) {
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}\u2026` : text;
}

/** One day for screen readers: "Monday, 17 March: low 3 °C, high 11 °C, light rain, 40% chance of precipitation". */
export function dayDescription(day, unit) {
  const date = parseCalendarDate(day.date);
  const label = date ? longDayFormat.format(date) : String(day.date);
  const condition = day.condition && day.condition.description ? `, ${day.condition.description}` : '';
  const rain = isNumber(day.precipitationProbability) ? `, ${day.precipitationProbability}% chance of precipitation` : '';
  return `${label}: low ${roundedDegrees(day.minimum)} ${unit}, high ${roundedDegrees(day.maximum)} ${unit}${condition}${rain}`;
}

/**
 * The chart for a Weather answer drawn `containerWidth` px wide (at least 288; 640 when unknown).
 * Returns {width, height, compact, unit, title, description, lo, hi, barTop, barBottom, guides: [y…],
 * days: [{day, cx, separatorX, condition, bar: {x, y, width, height, rx, maxLabelY, minLabelY} | null}]}.
 */
export function forecastLayout(weather, containerWidth) {
  const days = Array.isArray(weather.forecast) ? weather.forecast.slice(0, 5) : [];
  const unit = (UNIT_LABELS[weather.units] || UNIT_LABELS.metric).temperature;
  const width = Math.max(288, Math.round(containerWidth || 640));
  const height = CHART_HEIGHT;
  const columnWidth = width / Math.max(1, days.length);
  const compact = columnWidth < COMPACT_COLUMN;
  const barTop = compact ? 118 : 134;
  const barBottom = height - 58;

  const lows = days.map((d) => d.minimum).filter(isNumber);
  const highs = days.map((d) => d.maximum).filter(isNumber);
  let lo = lows.length ? Math.min(...lows) : 0;
  let hi = highs.length ? Math.max(...highs) : 1;
  if (hi - lo < MINIMUM_SPAN) {
    const mid = (hi + lo) / 2;
    lo = mid - MINIMUM_SPAN / 2;
    hi = mid + MINIMUM_SPAN / 2;
  }
  const y = (value) => barBottom - ((value - lo) / (hi - lo)) * (barBottom - barTop);
  const barWidth = Math.min(22, Math.max(12, columnWidth * 0.22));
  const maxChars = Math.max(6, Math.floor(columnWidth / 7.2));

  const cityName = weather.city && weather.city.name ? weather.city.name : 'the selected city';
  return {
    width,
    height,
    compact,
    unit,
    title: `5-day forecast for ${cityName}: daily low and high temperatures in ${unit}`,
    description: days.map((day) => dayDescription(day, unit)).join('. ') + '.',
    lo,
    hi,
    barTop,
    barBottom,
    guides: [0, 1, 2, 3].map((i) => barTop + ((barBottom - barTop) / 3) * i),
    days: days.map((day, index) => {
      const cx = columnWidth * index + columnWidth / 2;
      let bar = null;
      if (isNumber(day.minimum) && isNumber(day.maximum)) {
        const top = y(Math.max(day.minimum, day.maximum));
        const bottom = y(Math.min(day.minimum, day.maximum));
        bar = {
          x: cx - barWidth / 2,
          y: top,
          width: barWidth,
          height: Math.max(barWidth, bottom - top),
          rx: barWidth / 2,
          maxLabelY: top - 8,
          minLabelY: Math.max(bottom, top + barWidth) + 20,
        };
      }
      const description = day.condition && day.condition.description;
      return {
        day,
        cx,
        separatorX: index > 0 ? columnWidth * index : null,
        condition: !compact && description ? truncate(capitalise(description), maxChars) : null,
        bar,
      };
    }),
  };
}
