import InterchangeCore
import InterchangeTesting
import Resilience
import Synchronization
import Testing

@Suite("Timeout", .timeLimit(.minutes(1)))
struct TimeoutTests {
    @Test("cancels work that outlives the timeout and throws TimeoutError")
    func cancelsSlowWork() async throws {
        let clock = ManualClock()
        let timeout = try Timeout(.seconds(2), clock: clock)
        let sawCancellation = Mutex(false)
        let call = Task {
            try await timeout.execute { () -> Int in
                do {
                    try await clock.sleep(for: .seconds(60))
                } catch is CancellationError {
                    sawCancellation.withLock { $0 = true }
                    throw CancellationError()
                }
                return 1
            }
        }
        try await clock.waitForSleepers(2)  // the work and the timer
        clock.advance(by: .seconds(2))
        await #expect(throws: TimeoutError(timeout: .seconds(2))) { try await call.value }
        #expect(sawCancellation.withLock { $0 })
    }

    @Test("returns the value of work that finishes in time")
    func returnsInTime() async throws {
        let clock = ManualClock()
        let timeout = try Timeout(.seconds(2), clock: clock)
        let call = Task {
            try await timeout.execute { () -> Int in
                try await clock.sleep(for: .seconds(1))
                return 42
            }
        }
        try await clock.waitForSleepers(2)
        clock.advance(by: .seconds(1))
        #expect(try await call.value == 42)
    }

    @Test("passes the work's own error through")
    func passesErrors() async throws {
        let timeout = try Timeout(.seconds(1))
        await #expect(throws: Boom(id: 9)) { try await timeout.execute { () -> Int in throw Boom(id: 9) } }
    }

    @Test("rejects a non-positive timeout, naming the field")
    func validation() {
        #expect { try Timeout(.zero) } throws: { ($0 as? ConfigurationError)?.field == "timeout" }
    }
}

@Suite("Fallback")
struct FallbackTests {
    @Test("substitutes a value for a handled error")
    func substitutes() async throws {
        let isBoom: @Sendable (any Error) -> Bool = { $0 is Boom }
        let fallback = Fallback<String>(when: isBoom) { _ in "cached" }
        #expect(try await fallback.execute { throw Boom() } == "cached")
        await #expect(throws: TimeoutError.self) {
            try await fallback.execute { throw TimeoutError(timeout: .seconds(1)) }
        }
    }

    @Test("never swallows cancellation")
    func keepsCancellation() async throws {
        let fallback = Fallback<String> { _ in "cached" }
        await #expect(throws: CancellationError.self) { try await fallback.execute { throw CancellationError() } }
    }
}

@Suite("ResiliencePipeline")
struct ResiliencePipelineTests {
    @Test("retry outside the breaker: each attempt is counted, and the open breaker stops the retries")
    func retryAndBreaker() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let breaker = try CircuitBreaker(
            name: "dep",
            configuration: .init(slidingWindow: .countBased(size: 3), minimumNumberOfCalls: 3),
            clock: clock
        )
        let calls = CallCounter()
        let pipeline = try ResiliencePipeline<String> {
            Fallback { _ in "fallback" }
            try RetryStrategy(maxAttempts: 10, backoff: .constant(.milliseconds(1)), clock: clock)
            breaker
        }
        let value = try await pipeline.execute {
            calls.increment()
            throw Boom()
        }
        #expect(value == "fallback")
        #expect(calls.count == 3)  // the breaker opened after 3 failures; the 4th attempt was rejected, not retried
        #expect(breaker.state == .open)
    }

    @Test("stages run outermost first")
    func order() async throws {
        let trace = Mutex<[String]>([])
        func stage(_ name: String) -> ResilienceStage<Int> {
            ResilienceStage { next in
                trace.withLock { $0.append("enter \(name)") }
                defer { trace.withLock { $0.append("leave \(name)") } }
                return try await next()
            }
        }
        let pipeline = ResiliencePipeline<Int> {
            stage("a")
            stage("b")
        }
        _ = try await pipeline.execute { 1 }
        #expect(trace.withLock { $0 } == ["enter a", "enter b", "leave b", "leave a"])
    }

    @Test("typed stages retry on results and count results as breaker failures")
    func typedStages() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let breaker = try CircuitBreaker(
            name: "dep",
            configuration: .init(slidingWindow: .countBased(size: 10), minimumNumberOfCalls: 10),
            clock: clock
        )
        let retry = try RetryStrategy(maxAttempts: 3, backoff: .constant(.zero), clock: clock)
        let pipeline = ResiliencePipeline<Int> {
            retry.retrying(when: RetryPredicate(onResult: { $0 >= 500 ? .retry : .doNotRetry }))
            breaker.counting(resultsAsFailure: { $0 >= 500 })
        }
        let statuses = Mutex([503, 502, 200])
        let status = try await pipeline.execute { statuses.withLock { $0.removeFirst() } }
        #expect(status == 200)
        #expect(breaker.snapshot.totals == WindowTotals(calls: 3, failures: 2, slowCalls: 0))
    }
}
