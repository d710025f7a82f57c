/*
 * Polling with a bounded backoff: the order pages ask GET api/orders/{id} until the webhook has landed and the
 * status is final, waiting a little longer each time, and give up after a fixed budget. Pure apart from the
 * injected `sleep`; unit-tested by tests/web/shop-polling.test.mjs with a sleep that returns at once.
 */

export const DEFAULT_BACKOFF = Object.freeze({ initialMs: 500, factor: 1.5, maxMs: 5000, budgetMs: 90000 });

/** The wait before retry number `attempt` (0-based): initial × factor^attempt, never more than maxMs. */
export function backoffDelay(attempt, options = DEFAULT_BACKOFF) {
  const { initialMs, factor, maxMs } = { ...DEFAULT_BACKOFF, ...options };
  return Math.min(maxMs, Math.round(initialMs * factor ** attempt));
}

/**
 * The successive waits, ending when the next one would take the total past budgetMs: a finite schedule, so a
 * page that never sees its webhook stops asking. `jitter` (0..1) spreads each wait by up to that fraction
 * downwards, with `random` returning [0, 1).
 */
export function backoffSchedule(options = DEFAULT_BACKOFF, random = Math.random) {
  const settings = { ...DEFAULT_BACKOFF, ...options };
  const jitter = Math.min(1, Math.max(0, settings.jitter || 0));
  const delays = [];
  let total = 0;
  for (let attempt = 0; ; attempt += 1) {
    const base = backoffDelay(attempt, settings);
    const delay = Math.round(base * (1 - jitter * random()));
    if (delay <= 0 || total + delay > settings.budgetMs) break;
    delays.push(delay);
    total += delay;
  }
  return delays;
}

/** Resolves after `ms`, or rejects with an AbortError when `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new DOMException('aborted', 'AbortError'));
      return;
    }
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(new DOMException('aborted', 'AbortError'));
    }
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `load()` until `isDone(result)`, waiting the schedule's delays in between; `onResult` sees every result.
 * Returns {result, done: true} when finished, {result, done: false} when the schedule ran out first.
 */
export async function pollUntil({ load, isDone, onResult = () => {}, schedule = backoffSchedule(), wait = sleep, signal }) {
  let result = await load();
  onResult(result);
  if (isDone(result)) return { result, done: true, attempts: 1 };
  let attempts = 1;
  for (const delay of schedule) {
    await wait(delay, signal);
    result = await load();
    attempts += 1;
    onResult(result);
    if (isDone(result)) return { result, done: true, attempts };
  }
  return { result, done: false, attempts };
}
