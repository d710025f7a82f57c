import InterchangeTesting
import Resilience
import Testing

/// Local refusals — our own rate limiter, bulkhead or an inner breaker — never count against a dependency,
/// whether the policies are composed in a ``ResiliencePipeline`` or run as one ``GuardedAttempt``.
@Suite("GuardedAttempt", .timeLimit(.minutes(1)))
struct GuardedAttemptTests {
    let clock = ManualClock()

    /// Opens after 2 failures among 2 calls: any refusal counted as a failure would trip it at once.
    func touchyBreaker() throws -> CircuitBreaker {
        try CircuitBreaker(
            name: "upstream",
            configuration: .init(failureRateThreshold: 50, slidingWindow: .countBased(size: 2), minimumNumberOfCalls: 2),
            clock: clock
        )
    }

    @Test("a breaker composed with a rate limiter in a pipeline stays closed while the limiter throttles")
    func pipelineThrottlingKeepsBreakerClosed() async throws {
        let breaker = try touchyBreaker()
        let limiter = try RateLimiter(name: "upstream", algorithm: .tokenBucket(capacity: 1, refillPerSecond: 0.001), clock: clock)
        let pipeline = ResiliencePipeline<Int> {
            breaker
            limiter
        }
        let calls = CallCounter()
        #expect(try await pipeline.execute { calls.increment() } == 1)
        var throttled = 0
        for _ in 0..<20 {
            do {
                _ = try await pipeline.execute { calls.increment() }
            } catch is RateLimitExceededError {
                throttled += 1
            }
        }
        #expect(throttled == 20)
        #expect(calls.count == 1)
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot.totals == WindowTotals(calls: 1, failures: 0, slowCalls: 0))
    }

    @Test("a full bulkhead inside a breaker's pipeline does not open the breaker")
    func pipelineBulkheadKeepsBreakerClosed() async throws {
        let breaker = try touchyBreaker()
        let bulkhead = try Bulkhead(name: "upstream", maxConcurrentCalls: 1)
        let pipeline = ResiliencePipeline<Int> {
            breaker
            bulkhead
        }
        let gate = Gate()
        let started = Gate()
        let held = try await withThrowingTaskGroup(of: Int.self) { group throws -> Int? in
            group.addTask {
                try await pipeline.execute {
                    started.open()
                    await gate.wait()
                    return 1
                }
            }
            await started.wait()
            for _ in 0..<5 {
                await #expect(throws: BulkheadFullError.self) { try await pipeline.execute { 2 } }
            }
            #expect(breaker.state == .closed)
            gate.open()
            return try await group.next()
        }
        #expect(held == 1)
        #expect(breaker.snapshot.totals == WindowTotals(calls: 1, failures: 0, slowCalls: 0))
    }

    @Test("the dependency's own failures still count and open the breaker")
    func realFailuresCount() async throws {
        let breaker = try touchyBreaker()
        let limiter = try RateLimiter(name: "upstream", algorithm: .tokenBucket(capacity: 10, refillPerSecond: 1), clock: clock)
        let attempt = GuardedAttempt(circuitBreaker: breaker, rateLimiter: limiter, clock: clock)
        for _ in 0..<2 {
            await #expect(throws: Boom.self) { try await attempt.run { _ -> Int in throw Boom() } }
        }
        #expect(breaker.state == .open)
        await #expect(throws: CircuitBreakerOpenError.self) { try await attempt.run { _ in 1 } }
    }

    @Test("results counted as failures open the breaker; others do not")
    func resultsCount() async throws {
        let breaker = try touchyBreaker()
        let attempt = GuardedAttempt(circuitBreaker: breaker, clock: clock)
        let isServerError: (Int) -> Bool = { $0 >= 500 }
        _ = try await attempt.run(countingAsFailure: isServerError) { _ in 200 }
        #expect(breaker.snapshot.totals == WindowTotals(calls: 1, failures: 0, slowCalls: 0), "a 200 is a success")
        _ = try await attempt.run(countingAsFailure: isServerError) { _ in 503 }
        #expect(breaker.state == .open)
    }

    @Test("a cancelled call hands its half-open probe back instead of counting")
    func cancellationIsNotCounted() async throws {
        let breaker = try CircuitBreaker(
            name: "upstream",
            configuration: .init(
                failureRateThreshold: 50,
                slidingWindow: .countBased(size: 2),
                minimumNumberOfCalls: 2,
                waitDurationInOpenState: .seconds(10),
                permittedCallsInHalfOpenState: 1
            ),
            clock: clock
        )
        let attempt = GuardedAttempt(circuitBreaker: breaker, clock: clock)
        // Closed: cancelled calls are not outcomes, so two of them do not make a window that could trip.
        for _ in 0..<2 {
            await #expect(throws: CancellationError.self) { try await attempt.run { _ -> Int in throw CancellationError() } }
        }
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot.totals == WindowTotals())
        // Half-open with a single probe: a cancelled probe gives the slot back, so the next call is the probe.
        for _ in 0..<2 {
            await #expect(throws: Boom.self) { try await attempt.run { _ -> Int in throw Boom() } }
        }
        #expect(breaker.state == .open)
        clock.advance(by: .seconds(10))
        await #expect(throws: CancellationError.self) { try await attempt.run { _ -> Int in throw CancellationError() } }
        #expect(breaker.state == .halfOpen, "the cancelled probe neither closed nor reopened the breaker")
        #expect(try await attempt.run { _ in 1 } == 1)
        #expect(breaker.state == .closed)
    }

    @Test("the call's duration is measured on the injected clock, so slow calls count")
    func slowCallsMeasuredOnTheClock() async throws {
        let breaker = try CircuitBreaker(
            name: "upstream",
            configuration: .init(
                slowCallRateThreshold: 50,
                slowCallDurationThreshold: .seconds(2),
                slidingWindow: .countBased(size: 2),
                minimumNumberOfCalls: 2
            ),
            clock: clock
        )
        let attempt = GuardedAttempt(circuitBreaker: breaker, clock: clock)
        for _ in 0..<2 {
            _ = try await attempt.run { _ in
                clock.advance(by: .seconds(3))
                return 1
            }
        }
        #expect(breaker.snapshot.totals.slowCalls == 0)  // the window was reset by the trip
        #expect(breaker.state == .open)
    }

    @Test("the operation learns when it cleared the limiter, after any wait")
    func clearedAfterLimiterWait() async throws {
        let limiter = try RateLimiter(
            name: "upstream",
            algorithm: .tokenBucket(capacity: 1, refillPerSecond: 1),
            maxWait: .seconds(5),
            clock: clock
        )
        let attempt = GuardedAttempt(rateLimiter: limiter, clock: clock)
        let first = try await attempt.run { cleared in cleared }
        async let second = attempt.run { cleared in cleared }
        try await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        #expect(try await second - first == .seconds(1))
    }
}
