import InterchangeCore
import InterchangeTesting
import MetricsTestKit
import Resilience
import Testing

@Suite("CircuitBreaker", .timeLimit(.minutes(1)))
struct CircuitBreakerTests {
    let clock = ManualClock()

    func breaker(
        _ configuration: CircuitBreaker.Configuration,
        metrics: TestMetrics = TestMetrics(),
        events: LockedValue<[CircuitBreaker.Event]>? = nil
    ) throws -> CircuitBreaker {
        try CircuitBreaker(
            name: "upstream",
            configuration: configuration,
            clock: clock,
            metricsFactory: metrics,
            onEvent: { event in events?.append(event) }
        )
    }

    func succeed(_ breaker: CircuitBreaker, _ times: Int = 1) async throws {
        for _ in 0..<times { _ = try await breaker.execute { 1 } }
    }

    /// Makes `times` calls that run and fail; a call the breaker rejects instead is a failed expectation.
    func fail(_ breaker: CircuitBreaker, _ times: Int = 1, sourceLocation: SourceLocation = #_sourceLocation) async {
        for _ in 0..<times {
            await #expect(throws: Boom.self, sourceLocation: sourceLocation) { try await breaker.execute { () -> Int in throw Boom() } }
        }
    }

    @Test("opens when the failure rate reaches the threshold, not before the minimum number of calls")
    func opensOnFailureRate() async throws {
        let breaker = try breaker(.init(failureRateThreshold: 50, slidingWindow: .countBased(size: 10), minimumNumberOfCalls: 4))
        await fail(breaker, 3)
        #expect(breaker.state == .closed)  // 100% failures, but only 3 calls
        try await succeed(breaker)
        #expect(breaker.state == .open)  // 4 calls, 75% failed
    }

    @Test("stays closed while the failure rate is below the threshold")
    func staysClosedBelowThreshold() async throws {
        let breaker = try breaker(.init(failureRateThreshold: 50, slidingWindow: .countBased(size: 10), minimumNumberOfCalls: 10))
        for _ in 0..<10 {
            await fail(breaker)
            try await succeed(breaker, 2)
        }
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot.totals == WindowTotals(calls: 10, failures: 3, slowCalls: 0))
    }

    @Test("an open breaker rejects calls without running them and says when to retry")
    func rejectsWhenOpen() async throws {
        let breaker = try breaker(
            .init(slidingWindow: .countBased(size: 2), minimumNumberOfCalls: 2, waitDurationInOpenState: .seconds(30))
        )
        await fail(breaker, 2)
        clock.advance(by: .seconds(10))
        let ran = CallCounter()
        do {
            _ = try await breaker.execute { ran.increment() }
            Issue.record("expected a rejection")
        } catch let error as CircuitBreakerOpenError {
            #expect(error.state == .open)
            #expect(error.retryAfter == .seconds(20))
        }
        #expect(ran.count == 0)
        #expect(breaker.snapshot.notPermittedCalls == 1)
    }

    @Test("after the wait, half-open admits exactly the permitted probes; successful probes close it")
    func halfOpenProbesClose() async throws {
        let breaker = try breaker(
            .init(
                slidingWindow: .countBased(size: 2),
                minimumNumberOfCalls: 2,
                waitDurationInOpenState: .seconds(5),
                permittedCallsInHalfOpenState: 2
            )
        )
        await fail(breaker, 2)
        clock.advance(by: .seconds(5))
        let gate = Gate()
        async let first: Int = breaker.execute {
            await gate.wait()
            return 1
        }
        async let second: Int = breaker.execute {
            await gate.wait()
            return 2
        }
        try await gate.waitForWaiters(2)
        #expect(breaker.state == .halfOpen)
        await #expect(throws: CircuitBreakerOpenError.self) { try await breaker.execute { 3 } }
        gate.open()
        _ = try await (first, second)
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot.totals.calls == 0)  // a fresh window
    }

    @Test("failing probes open the breaker again")
    func halfOpenProbesReopen() async throws {
        let breaker = try breaker(
            .init(
                slidingWindow: .countBased(size: 2),
                minimumNumberOfCalls: 2,
                waitDurationInOpenState: .seconds(5),
                permittedCallsInHalfOpenState: 2
            )
        )
        await fail(breaker, 2)
        clock.advance(by: .seconds(5))
        try await succeed(breaker)
        await fail(breaker)
        #expect(breaker.state == .open)  // 50% of probes failed, at the default 50% threshold
    }

    @Test("opens on the slow-call rate even when every call succeeds")
    func opensOnSlowCalls() async throws {
        let breaker = try breaker(
            .init(
                slowCallRateThreshold: 50,
                slowCallDurationThreshold: .seconds(2),
                slidingWindow: .countBased(size: 4),
                minimumNumberOfCalls: 4
            )
        )
        for slow in [true, false, true, false] {
            let operation = Task {
                try await breaker.execute {
                    if slow { try await clock.sleep(for: .seconds(3)) }
                    return 1
                }
            }
            if slow {
                try await clock.waitForSleepers(1)
                clock.advance(by: .seconds(3))
            }
            _ = try await operation.value
        }
        #expect(breaker.state == .open)
        #expect(breaker.snapshot.state == .open)
    }

    @Test("a time-based window forgets failures older than the window")
    func timeBasedWindowExpires() async throws {
        let breaker = try breaker(.init(slidingWindow: .timeBased(seconds: 10), minimumNumberOfCalls: 4))
        await fail(breaker, 3)
        clock.advance(by: .seconds(11))
        #expect(breaker.snapshot.totals.calls == 0)
        await fail(breaker)
        try await succeed(breaker, 3)
        #expect(breaker.state == .closed)  // 1 failure in 4 calls: the 3 old failures expired
        await fail(breaker, 1)
        clock.advance(by: .seconds(5))
        await fail(breaker, 1)
        #expect(breaker.state == .open)  // 3 of 6 calls in the last 10 s failed
    }

    @Test("results can count as failures")
    func resultFailures() async throws {
        let breaker = try breaker(.init(slidingWindow: .countBased(size: 2), minimumNumberOfCalls: 2))
        let isServerError: @Sendable (Int) -> Bool = { $0 >= 500 }
        for _ in 0..<2 { _ = try await breaker.execute(isFailure: isServerError) { 503 } }
        #expect(breaker.state == .open)
    }

    @Test("errors the configuration does not count as failures count as successes")
    func ignoredErrors() async throws {
        struct NotFound: Error {}
        let breaker = try breaker(
            .init(slidingWindow: .countBased(size: 2), minimumNumberOfCalls: 2, isFailure: { !($0 is NotFound) })
        )
        for _ in 0..<4 {
            await #expect(throws: NotFound.self) { try await breaker.execute { () -> Int in throw NotFound() } }
        }
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot.totals == WindowTotals(calls: 2, failures: 0, slowCalls: 0))  // recorded, as successes
    }

    @Test("cancelled calls are not counted, and give their half-open slot back")
    func cancellationNotCounted() async throws {
        let breaker = try breaker(
            .init(
                slidingWindow: .countBased(size: 1),
                minimumNumberOfCalls: 1,
                waitDurationInOpenState: .seconds(1),
                permittedCallsInHalfOpenState: 1
            )
        )
        for _ in 0..<3 { _ = try? await breaker.execute { () -> Int in throw CancellationError() } }
        #expect(breaker.snapshot.totals.calls == 0)
        await fail(breaker)
        clock.advance(by: .seconds(1))
        _ = try? await breaker.execute { () -> Int in throw CancellationError() }
        try await succeed(breaker)  // the slot came back
        #expect(breaker.state == .closed)
    }

    @Test("an outcome from before a state change is not counted against the new state")
    func staleOutcomesIgnored() async throws {
        let breaker = try breaker(.init(slidingWindow: .countBased(size: 1), minimumNumberOfCalls: 1))
        let permit = try breaker.acquirePermission()
        breaker.transitionToForcedOpen()
        breaker.reset()
        breaker.record(permit, failed: true, duration: .zero)
        #expect(breaker.state == .closed)
    }

    @Test("forced open rejects everything; disabled lets everything through; reset closes")
    func manualStates() async throws {
        let breaker = try breaker(.init(slidingWindow: .countBased(size: 1), minimumNumberOfCalls: 1))
        breaker.transitionToForcedOpen()
        clock.advance(by: .seconds(3600))
        await #expect(throws: CircuitBreakerOpenError.self) { try await breaker.execute { 1 } }
        breaker.transitionToDisabled()
        let ran = CallCounter()
        for _ in 0..<10 {
            // Each failing call runs and fails with its own error: nothing is rejected, nothing trips.
            await #expect(throws: Boom.self) {
                try await breaker.execute { () -> Int in
                    ran.increment()
                    throw Boom()
                }
            }
        }
        #expect(ran.count == 10)
        #expect(breaker.state == .disabled)
        breaker.reset()
        #expect(breaker.state == .closed)
    }

    @Test("reports state changes as events and metrics")
    func eventsAndMetrics() async throws {
        let metrics = TestMetrics()
        let events = LockedValue<[CircuitBreaker.Event]>([])
        let breaker = try breaker(
            .init(slidingWindow: .countBased(size: 2), minimumNumberOfCalls: 2, waitDurationInOpenState: .seconds(1)),
            metrics: metrics,
            events: events
        )
        await fail(breaker, 2)
        _ = try? await breaker.execute { 1 }
        let transitions = events.value.compactMap { event -> String? in
            if case .stateChanged(let from, let to, _) = event { return "\(from)->\(to)" }
            return nil
        }
        #expect(transitions == ["closed->open"])
        #expect(try metrics.expectGauge("interchange_circuit_breaker_state", [("name", "upstream")]).lastValue == 1)
        #expect(
            metrics.counterTotal(
                label: "interchange_circuit_breaker_calls_total",
                dimensions: [("name", "upstream"), ("outcome", "failed")]
            ) == 2
        )
        #expect(
            metrics.counterTotal(
                label: "interchange_circuit_breaker_calls_total",
                dimensions: [("name", "upstream"), ("outcome", "not_permitted")]
            ) == 1
        )
        guard case .stateChanged(_, _, let totals) = events.value.first else {
            Issue.record("expected a state change as the first event, got \(events.value)")
            return
        }
        #expect(totals?.failureRate == 100)
    }

    @Test("under heavy concurrency, half-open admits exactly the permitted number of probes")
    func concurrentHalfOpen() async throws {
        let breaker = try breaker(
            .init(
                slidingWindow: .countBased(size: 1),
                minimumNumberOfCalls: 1,
                waitDurationInOpenState: .seconds(1),
                permittedCallsInHalfOpenState: 5
            )
        )
        await fail(breaker)
        clock.advance(by: .seconds(1))
        let gate = Gate()
        let admitted = CallCounter()
        let rejected = CallCounter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<1000 {
                group.addTask {
                    do {
                        _ = try await breaker.execute {
                            admitted.increment()
                            await gate.wait()
                            return 1
                        }
                    } catch {
                        rejected.increment()
                    }
                }
            }
            // Every call has been admitted or refused while the admitted probes are still held at the gate.
            do {
                try await gate.waitForWaiters(5)
                try await waitUntil("all 1000 calls were admitted or rejected") { admitted.count + rejected.count == 1000 }
            } catch {
                gate.open()  // let the held probes finish, so the group can end and the failure be reported
                throw error
            }
            gate.open()
            try await group.waitForAll()
        }
        #expect(admitted.count == 5)
        #expect(rejected.count == 995)
        #expect(breaker.state == .closed)
    }

    @Test("under heavy concurrency, every outcome is counted exactly once")
    func concurrentCounting() async throws {
        let breaker = try breaker(.init(failureRateThreshold: 100, slidingWindow: .countBased(size: 100_000), minimumNumberOfCalls: 100_000))
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<2000 {
                group.addTask {
                    _ = try? await breaker.execute { () -> Int in
                        if index % 4 == 0 { throw Boom() }
                        return index
                    }
                }
            }
        }
        #expect(breaker.snapshot.totals == WindowTotals(calls: 2000, failures: 500, slowCalls: 0))
    }

    @Test("invalid settings fail at construction, naming the field")
    func validation() {
        for (configuration, field) in [
            (CircuitBreaker.Configuration(failureRateThreshold: 0), "failureRateThreshold"),
            (CircuitBreaker.Configuration(failureRateThreshold: 101), "failureRateThreshold"),
            (CircuitBreaker.Configuration(slowCallRateThreshold: -5), "slowCallRateThreshold"),
            (CircuitBreaker.Configuration(slidingWindow: .countBased(size: 0)), "slidingWindow.size"),
            (CircuitBreaker.Configuration(minimumNumberOfCalls: 0), "minimumNumberOfCalls"),
            (CircuitBreaker.Configuration(waitDurationInOpenState: .seconds(-1)), "waitDurationInOpenState"),
            (CircuitBreaker.Configuration(permittedCallsInHalfOpenState: 0), "permittedCallsInHalfOpenState"),
        ] {
            #expect {
                try CircuitBreaker(name: "x", configuration: configuration)
            } throws: { error in
                (error as? ConfigurationError)?.field == field
            }
        }
    }
}
