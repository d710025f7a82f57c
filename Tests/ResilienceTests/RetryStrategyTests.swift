import InterchangeCore
import InterchangeTesting
import Resilience
import Testing

@Suite("RetryStrategy", .timeLimit(.minutes(1)))
struct RetryStrategyTests {
    @Test("retries a transient error until it succeeds")
    func retriesUntilSuccess() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let retry = try RetryStrategy(maxAttempts: 5, backoff: .constant(.milliseconds(10)), clock: clock)
        let calls = CallCounter()
        let value = try await retry.execute {
            if calls.increment() < 3 { throw Boom() }
            return "ok"
        }
        #expect(value == "ok")
        #expect(calls.count == 3)
        #expect(clock.sleeps == [.milliseconds(10), .milliseconds(10)])
    }

    @Test("stops after maxAttempts and throws the last error")
    func stopsAfterMaxAttempts() async throws {
        let retry = try RetryStrategy(maxAttempts: 3, backoff: .constant(.zero), clock: ManualClock(advancesOnSleep: true))
        let calls = CallCounter()
        await #expect(throws: Boom(id: 3)) {
            try await retry.execute { () -> Int in throw Boom(id: calls.increment()) }
        }
        #expect(calls.count == 3)
    }

    @Test("exponential backoff without jitter doubles up to the cap")
    func exponentialBackoff() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let backoff = try Backoff.exponential(initial: .milliseconds(100), maxDelay: .milliseconds(500), jitter: .none)
        let retry = try RetryStrategy(maxAttempts: 6, backoff: backoff, clock: clock)
        _ = try? await retry.execute { () -> Int in throw Boom() }
        #expect(clock.sleeps == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(500), .milliseconds(500)])
    }

    @Test("full jitter draws uniformly below the exponential delay")
    func fullJitter() throws {
        let backoff = try Backoff.exponential(initial: .milliseconds(100), maxDelay: .seconds(10), jitter: .full)
        #expect(backoff.delay(beforeRetry: 3, previousDelay: .zero, jitterSource: .fixed(0.5)) == .milliseconds(200))
        #expect(backoff.delay(beforeRetry: 3, previousDelay: .zero, jitterSource: .fixed(0)) == .zero)
        let source = JitterSource.seeded(7)
        let delays = (0..<1000).map { _ in backoff.delay(beforeRetry: 4, previousDelay: .zero, jitterSource: source) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .milliseconds(800) })
        // Spread, not a constant: the point of jitter.
        #expect(Set(delays).count > 900)
        let mean = delays.map(\.inSeconds).reduce(0, +) / Double(delays.count)
        #expect(abs(mean - 0.4) < 0.03)
    }

    @Test("equal jitter never waits less than half the delay")
    func equalJitter() throws {
        let backoff = try Backoff.exponential(initial: .milliseconds(100), maxDelay: .seconds(10), jitter: .equal)
        #expect(backoff.delay(beforeRetry: 2, previousDelay: .zero, jitterSource: .fixed(0)) == .milliseconds(100))
        #expect(backoff.delay(beforeRetry: 2, previousDelay: .zero, jitterSource: .fixed(0.5)) == .milliseconds(150))
    }

    @Test("decorrelated jitter stays between the initial delay and three times the previous, capped")
    func decorrelatedJitter() throws {
        let backoff = try Backoff.exponential(initial: .milliseconds(100), maxDelay: .seconds(1), jitter: .decorrelated)
        let source = JitterSource.seeded(3)
        var previous = Duration.zero
        for retry in 1...50 {
            let delay = backoff.delay(beforeRetry: retry, previousDelay: previous, jitterSource: source)
            let upper = min(.seconds(1), (retry == 1 ? .milliseconds(100) : previous) * 3)
            #expect(delay >= .milliseconds(100) && delay <= upper + .nanoseconds(1))
            previous = delay
        }
    }

    @Test("a server-given delay replaces the backoff")
    func honoursServerDelay() async throws {
        struct Throttled: RetryClassifiable {
            var isRetryable: Bool { true }
            var retryAfter: Duration? { .seconds(7) }
        }
        let clock = ManualClock(advancesOnSleep: true)
        let retry = try RetryStrategy(maxAttempts: 2, backoff: .constant(.milliseconds(1)), clock: clock)
        _ = try? await retry.execute { () -> Int in throw Throttled() }
        #expect(clock.sleeps == [.seconds(7)])
    }

    @Test("a server delay beyond maxServerDelay ends the retries")
    func serverDelayTooLong() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let retry = try RetryStrategy(maxAttempts: 5, maxServerDelay: .seconds(30), clock: clock)
        let calls = CallCounter()
        let predicate = RetryPredicate<Int>(onResult: { _ in .retryAfter(.seconds(3600)) })
        let result = try await retry.execute(when: predicate) { _ in calls.increment() }
        #expect(result == 1)
        #expect(clock.sleeps.isEmpty)
    }

    @Test("results can be retried, and the last one is returned when attempts run out")
    func retriesResults() async throws {
        let retry = try RetryStrategy(maxAttempts: 3, backoff: .constant(.zero), clock: ManualClock(advancesOnSleep: true))
        let calls = CallCounter()
        let predicate = RetryPredicate<Int>(onResult: { $0 == 503 ? .retry : .doNotRetry })
        let status = try await retry.execute(when: predicate) { _ in
            calls.increment()
            return 503
        }
        #expect(status == 503)
        #expect(calls.count == 3)
    }

    @Test("errors that say they are not retryable are not retried")
    func nonRetryableErrors() async throws {
        let retry = try RetryStrategy(maxAttempts: 5, clock: ManualClock(advancesOnSleep: true))
        let calls = CallCounter()
        await #expect(throws: CircuitBreakerOpenError.self) {
            try await retry.execute { () -> Int in
                calls.increment()
                throw CircuitBreakerOpenError(name: "x", state: .open, retryAfter: nil)
            }
        }
        #expect(calls.count == 1)
    }

    @Test("the operation learns its attempt number")
    func attemptNumbers() async throws {
        let retry = try RetryStrategy(maxAttempts: 3, backoff: .constant(.zero), clock: ManualClock(advancesOnSleep: true))
        let seen = CallCounter()
        _ = try? await retry.execute(when: .transientErrors) { attempt -> Int in
            #expect(attempt == seen.increment())
            throw Boom()
        }
        #expect(seen.count == 3)
    }

    @Test("a retry budget caps retries at its share of calls during an outage")
    func budgetCapsRetries() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let budget = try RetryBudget(ratio: 0.2, minRetriesPerSecond: 0, window: .seconds(10), clock: clock)
        let retry = try RetryStrategy(maxAttempts: 4, backoff: .constant(.zero), budget: budget, clock: clock)
        let attempts = CallCounter()
        for _ in 0..<100 {
            _ = try? await retry.execute { () -> Int in
                attempts.increment()
                throw Boom()
            }
        }
        // Without the budget: 400 attempts. With it: 100 calls + at most 20% retries.
        #expect(attempts.count <= 120)
        #expect(attempts.count >= 115)
    }

    @Test("the budget's floor lets a quiet client retry, and deposits expire after the window")
    func budgetFloorAndExpiry() throws {
        let clock = ManualClock()
        let budget = try RetryBudget(ratio: 0.5, minRetriesPerSecond: 0.2, window: .seconds(10), clock: clock)
        #expect(budget.available == 2)  // the floor: 0.2/s × 10 s
        for _ in 0..<10 { budget.recordCall() }
        #expect(budget.available == 7)
        clock.advance(by: .seconds(11))
        #expect(budget.available == 2)
        #expect(budget.tryWithdrawRetry())
        #expect(budget.tryWithdrawRetry())
        #expect(!budget.tryWithdrawRetry())
    }

    @Test("cancellation during the backoff ends the loop")
    func cancellationStops() async throws {
        let clock = ManualClock()
        let retry = try RetryStrategy(maxAttempts: 5, backoff: .constant(.seconds(10)), clock: clock)
        let calls = CallCounter()
        let task = Task {
            try await retry.execute { () -> Int in
                calls.increment()
                throw Boom()
            }
        }
        try await clock.waitForSleepers(1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(calls.count == 1)
    }

    @Test("invalid settings fail at construction, naming the field")
    func validation() {
        #expect(throws: ConfigurationError.self) { try RetryStrategy(maxAttempts: 0) }
        do {
            _ = try RetryStrategy(maxAttempts: 0)
        } catch let error as ConfigurationError {
            #expect(error.field == "maxAttempts")
            #expect(error.description.contains("got 0"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: ConfigurationError(field: "initial", reason: "must not be negative (got -1.0 seconds)")) {
            try Backoff.exponential(initial: .seconds(-1))
        }
        #expect(throws: ConfigurationError.self) { try Backoff.exponential(multiplier: 0.5) }
        #expect(throws: ConfigurationError.self) { try RetryBudget(ratio: -1) }
    }
}
