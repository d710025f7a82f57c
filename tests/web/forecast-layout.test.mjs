import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CHART_HEIGHT, dayDescription, forecastLayout, truncate } from '../../Sources/WeatherDashboard/Resources/web/forecast-layout.js';

const day = (date, minimum, maximum, extra = {}) => ({ date, minimum, maximum, ...extra });
const week = [
  day('2026-03-20', 3, 11, { condition: { code: 'rain', description: 'light rain' }, precipitationProbability: 40 }),
  day('2026-03-21', -2, 4, { condition: { code: 'snow', description: 'snow showers with a very long description' } }),
  day('2026-03-22', 5, 15),
  day('2026-03-23', 8, 18),
  day('2026-03-24', 6, 12),
];
const weather = (forecast, extra = {}) => ({ city: { name: 'Berlin' }, units: 'metric', forecast, ...extra });

describe('forecast chart geometry', () => {
  test('five equal columns across the width, each bar centred in its column', () => {
    const layout = forecastLayout(weather(week), 640);
    assert.equal(layout.width, 640);
    assert.equal(layout.height, CHART_HEIGHT);
    assert.equal(layout.days.length, 5);
    assert.deepEqual(layout.days.map((d) => d.cx), [64, 192, 320, 448, 576]);
    assert.deepEqual(layout.days.map((d) => d.separatorX), [null, 128, 256, 384, 512]);
    for (const { cx, bar } of layout.days) assert.equal(bar.x + bar.width / 2, cx);
  });

  test('the scale spans the week: the coldest low sits on the bottom, the warmest high on the top', () => {
    const layout = forecastLayout(weather(week), 640);
    assert.equal(layout.lo, -2);
    assert.equal(layout.hi, 18);
    const [, cold, , warm] = layout.days;
    assert.equal(cold.bar.y + cold.bar.height, layout.barBottom);
    assert.equal(warm.bar.y, layout.barTop);
    for (const { bar } of layout.days) {
      assert.ok(bar.y >= layout.barTop && bar.y + bar.height <= layout.barBottom + 1e-9);
      assert.ok(bar.maxLabelY < bar.y, 'the high is written above its bar');
      assert.ok(bar.minLabelY > bar.y + bar.height, 'the low is written below its bar');
    }
    assert.deepEqual(layout.guides, [134, 170, 206, 242]);
  });

  test('a flat week still spans six degrees, and a bar is never shorter than it is wide', () => {
    const layout = forecastLayout(weather([day('2026-03-20', 10, 10), day('2026-03-21', 10, 11)]), 640);
    assert.equal(layout.lo, 7.5);
    assert.equal(layout.hi, 13.5);
    for (const { bar } of layout.days) assert.ok(bar.height >= bar.width);
  });

  test('a narrow chart is compact: no condition text, bars start higher, at least 288 px wide', () => {
    const narrow = forecastLayout(weather(week), 100);
    assert.equal(narrow.width, 288);
    assert.equal(narrow.compact, true);
    assert.equal(narrow.barTop, 118);
    assert.ok(narrow.days.every((d) => d.condition === null));
    const wide = forecastLayout(weather(week), 640);
    assert.equal(wide.compact, false);
    assert.equal(wide.days[0].condition, 'Light rain');
    assert.equal(wide.days[1].condition, 'Snow showers wit\u2026', 'cut to the column (128 px: 17 characters with the ellipsis)');
    assert.equal(forecastLayout(weather(week), 0).width, 640, 'an unmeasured container gets the default width');
  });

  test('a day without both temperatures has no bar; more than five days are cut to five', () => {
    const layout = forecastLayout(weather([day('2026-03-20', null, 4), ...week]), 640);
    assert.equal(layout.days.length, 5);
    assert.equal(layout.days[0].bar, null);
    assert.deepEqual(forecastLayout({ forecast: null }, 640).days, []);
  });
});

describe('forecast chart text', () => {
  test('the title names the city and unit; the description reads every day', () => {
    const layout = forecastLayout(weather(week, { units: 'imperial' }), 640);
    assert.equal(layout.title, '5-day forecast for Berlin: daily low and high temperatures in °F');
    assert.equal(layout.description.split('. ').length, 5);
    assert.match(dayDescription(week[0], '°C'), /: low 3 °C, high 11 °C, light rain, 40% chance of precipitation$/);
    assert.match(dayDescription(week[1], '°C'), /: low \u22122 °C, high 4 °C, snow showers/);
    assert.equal(forecastLayout({ forecast: [] }, 640).title, '5-day forecast for the selected city: daily low and high temperatures in °C');
  });

  test('truncation keeps short text and ends cut text with an ellipsis', () => {
    assert.equal(truncate('Clear', 6), 'Clear');
    assert.equal(truncate('Thunderstorm', 6), 'Thund\u2026');
  });
});
