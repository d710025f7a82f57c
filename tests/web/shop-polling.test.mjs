import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { backoffDelay, backoffSchedule, DEFAULT_BACKOFF, pollUntil, sleep } from '../../Sources/Shop/Resources/web/polling.js';

describe('backoff', () => {
  test('each wait grows by the factor up to the cap', () => {
    const options = { initialMs: 500, factor: 2, maxMs: 3000, budgetMs: 60000 };
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, options)), [500, 1000, 2000, 3000, 3000, 3000]);
  });

  test('the schedule is finite: its waits add up to no more than the budget', () => {
    const schedule = backoffSchedule({ initialMs: 500, factor: 2, maxMs: 3000, budgetMs: 10000 });
    assert.deepEqual(schedule, [500, 1000, 2000, 3000, 3000]);
    const total = backoffSchedule(DEFAULT_BACKOFF).reduce((a, b) => a + b, 0);
    assert.ok(total <= DEFAULT_BACKOFF.budgetMs, String(total));
    assert.ok(backoffSchedule(DEFAULT_BACKOFF).length > 5, 'the default keeps asking for a while');
    assert.deepEqual(backoffSchedule({ initialMs: 0 }), [], 'a zero wait would spin: no schedule at all');
  });

  test('jitter only shortens waits, within its fraction', () => {
    const plain = backoffSchedule({ initialMs: 1000, factor: 1, maxMs: 1000, budgetMs: 5000 });
    const jittered = backoffSchedule({ initialMs: 1000, factor: 1, maxMs: 1000, budgetMs: 5000, jitter: 0.5 }, () => 0.999);
    assert.deepEqual(plain, [1000, 1000, 1000, 1000, 1000]);
    assert.ok(jittered.every((d) => d >= 500 && d <= 1000), String(jittered));
    assert.ok(jittered.length >= plain.length);
  });
});

describe('polling', () => {
  const noWait = async () => {};

  test('stops at the first result that is done, after waiting the schedule between tries', async () => {
    const answers = ['unpaid', 'unpaid', 'paid', 'never asked'];
    const waited = [];
    const seen = [];
    const outcome = await pollUntil({
      load: async () => answers.shift(),
      isDone: (status) => status === 'paid',
      onResult: (status) => seen.push(status),
      schedule: [100, 200, 400, 800],
      wait: async (ms) => { waited.push(ms); },
    });
    assert.deepEqual(outcome, { result: 'paid', done: true, attempts: 3 });
    assert.deepEqual(waited, [100, 200]);
    assert.deepEqual(seen, ['unpaid', 'unpaid', 'paid']);
    assert.deepEqual(answers, ['never asked']);
  });

  test('a result that is done at once needs no wait', async () => {
    let waits = 0;
    const outcome = await pollUntil({ load: async () => 1, isDone: () => true, schedule: [1], wait: async () => { waits += 1; } });
    assert.equal(outcome.done, true);
    assert.equal(waits, 0);
  });

  test('gives up when the schedule runs out: one try more than there are waits, done false', async () => {
    let calls = 0;
    const outcome = await pollUntil({ load: async () => { calls += 1; return 'unpaid'; }, isDone: () => false, schedule: [1, 2, 3], wait: noWait });
    assert.deepEqual(outcome, { result: 'unpaid', done: false, attempts: 4 });
    assert.equal(calls, 4);
  });

  test('an aborted signal ends the wait with an AbortError', async () => {
    const controller = new AbortController();
    const waiting = sleep(60000, controller.signal);
    controller.abort();
    await assert.rejects(waiting, { name: 'AbortError' });
    await assert.rejects(sleep(1, controller.signal), { name: 'AbortError' });
    await sleep(1);
  });
});
