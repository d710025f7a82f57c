import InterchangeCore
import InterchangeTesting
import Resilience
import Synchronization
import Testing

@Suite("RateLimiter", .timeLimit(.minutes(1)))
struct RateLimiterTests {
    let clock = ManualClock()

    @Test("a token bucket allows a burst up to its capacity, then refills at its rate")
    func tokenBucket() throws {
        let limiter = try RateLimiter(name: "api", algorithm: .tokenBucket(capacity: 3, refillPerSecond: 2), clock: clock)
        #expect((0..<3).map { _ in limiter.tryAcquire() } == [.acquired, .acquired, .acquired])
        #expect(limiter.tryAcquire() == .denied(retryAfter: .milliseconds(500)))
        clock.advance(by: .milliseconds(500))
        #expect(limiter.tryAcquire() == .acquired)
        #expect(limiter.tryAcquire() == .denied(retryAfter: .milliseconds(500)))
        clock.advance(by: .seconds(100))
        // Refill never exceeds the capacity.
        #expect((0..<4).map { _ in limiter.tryAcquire() == .acquired } == [true, true, true, false])
    }

    @Test("a sliding window allows at most the limit in any window-long interval")
    func slidingWindow() throws {
        let limiter = try RateLimiter(name: "api", algorithm: .slidingWindow(limit: 2, window: .seconds(1)), clock: clock)
        #expect(limiter.tryAcquire() == .acquired)
        clock.advance(by: .milliseconds(600))
        #expect(limiter.tryAcquire() == .acquired)
        #expect(limiter.tryAcquire() == .denied(retryAfter: .milliseconds(400)))
        clock.advance(by: .milliseconds(400))
        #expect(limiter.tryAcquire() == .acquired)  // the first grant left the window
        #expect(limiter.tryAcquire() == .denied(retryAfter: .milliseconds(600)))
    }

    @Test("a caller waits up to maxWait for a permit")
    func waitsForPermit() async throws {
        let limiter = try RateLimiter(
            name: "api",
            algorithm: .tokenBucket(capacity: 1, refillPerSecond: 1),
            maxWait: .seconds(2),
            clock: clock
        )
        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        try await clock.waitForSleepers(1)
        #expect(clock.sleeps == [.seconds(1)])
        clock.advance(by: .seconds(1))
        try await waiter.value
        // The reservation consumed the refilled token: the next caller waits another second.
        #expect(limiter.tryAcquire() == .denied(retryAfter: .seconds(1)))
    }

    @Test("beyond maxWait the caller fails fast with when to retry")
    func failsFast() async throws {
        let limiter = try RateLimiter(name: "api", algorithm: .slidingWindow(limit: 1, window: .seconds(10)), maxWait: .seconds(1), clock: clock)
        try await limiter.acquire()
        await #expect(throws: RateLimitExceededError(name: "api", retryAfter: .seconds(10))) {
            try await limiter.acquire()
        }
        #expect(clock.sleeperCount == 0)
    }

    @Test("a cancelled waiter gives its reserved permit back")
    func cancelledWaiterRefunds() async throws {
        let limiter = try RateLimiter(
            name: "api",
            algorithm: .tokenBucket(capacity: 1, refillPerSecond: 1),
            maxWait: .seconds(5),
            clock: clock
        )
        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        try await clock.waitForSleepers(1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        clock.advance(by: .seconds(1))
        #expect(limiter.tryAcquire() == .acquired)
    }

    @Test("under contention, exactly the capacity is granted")
    func contention() async throws {
        let limiter = try RateLimiter(name: "api", algorithm: .tokenBucket(capacity: 10, refillPerSecond: 0.001), clock: clock)
        let granted = CallCounter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<500 {
                group.addTask { if limiter.tryAcquire() == .acquired { granted.increment() } }
            }
        }
        #expect(granted.count == 10)
    }

    @Test("invalid settings fail at construction, naming the field")
    func validation() {
        let cases: [(RateLimiter.Algorithm, Duration, String)] = [
            (.tokenBucket(capacity: 0, refillPerSecond: 1), .zero, "capacity"),
            (.tokenBucket(capacity: 1, refillPerSecond: 0), .zero, "refillPerSecond"),
            (.slidingWindow(limit: 0, window: .seconds(1)), .zero, "limit"),
            (.slidingWindow(limit: 1, window: .zero), .zero, "window"),
            (.slidingWindow(limit: 1, window: .seconds(1)), .seconds(-1), "maxWait"),
        ]
        for (algorithm, maxWait, field) in cases {
            #expect {
                try RateLimiter(name: "x", algorithm: algorithm, maxWait: maxWait)
            } throws: { ($0 as? ConfigurationError)?.field == field }
        }
    }
}

@Suite("Bulkhead", .timeLimit(.minutes(1)))
struct BulkheadTests {
    @Test("runs up to the limit, queues up to the queue size, rejects the rest")
    func limitsConcurrency() async throws {
        let bulkhead = try Bulkhead(name: "db", maxConcurrentCalls: 2, maxQueuedCalls: 1)
        let gate = Gate()
        let started = CallCounter()
        async let first: Int = bulkhead.execute {
            started.increment()
            await gate.wait()
            return 1
        }
        async let second: Int = bulkhead.execute {
            started.increment()
            await gate.wait()
            return 2
        }
        try await gate.waitForWaiters(2)
        async let third: Int = bulkhead.execute {
            started.increment()
            return 3
        }
        try await waitUntil("the third call is queued") { bulkhead.load.queued == 1 }
        #expect(started.count == 2)
        await #expect(throws: BulkheadFullError.self) { try await bulkhead.execute { 4 } }
        gate.open()
        let results = try await [first, second, third]
        #expect(results == [1, 2, 3])
        #expect(bulkhead.load == (0, 0))
    }

    @Test("a cancelled queued caller leaves the queue")
    func cancelledWaiterLeaves() async throws {
        let bulkhead = try Bulkhead(name: "db", maxConcurrentCalls: 1, maxQueuedCalls: 1)
        let gate = Gate()
        let running = Task {
            try await bulkhead.execute {
                await gate.wait()
                return 1
            }
        }
        try await gate.waitForWaiters(1)
        let queued = Task { try await bulkhead.execute { 2 } }
        try await waitUntil("the second call is queued") { bulkhead.load.queued == 1 }
        queued.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        #expect(bulkhead.load.queued == 0)
        gate.open()
        #expect(try await running.value == 1)
    }

    @Test("never exceeds its limit under load")
    func neverExceedsLimit() async throws {
        let bulkhead = try Bulkhead(name: "db", maxConcurrentCalls: 3, maxQueuedCalls: 1000)
        let observed = ConcurrencyProbe()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<300 {
                group.addTask {
                    _ = try? await bulkhead.execute {
                        observed.enter()
                        await Task.yield()
                        observed.leave()
                        return 0
                    }
                }
            }
        }
        #expect(observed.peak <= 3)
        #expect(observed.peak >= 1)
        #expect(observed.total == 300)
    }

    @Test("invalid settings fail at construction, naming the field")
    func validation() {
        #expect { try Bulkhead(name: "x", maxConcurrentCalls: 0) } throws: { ($0 as? ConfigurationError)?.field == "maxConcurrentCalls" }
        #expect { try Bulkhead(name: "x", maxConcurrentCalls: 1, maxQueuedCalls: -1) } throws: {
            ($0 as? ConfigurationError)?.field == "maxQueuedCalls"
        }
    }
}
