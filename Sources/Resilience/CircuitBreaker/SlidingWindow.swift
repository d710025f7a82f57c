/// The outcome of one call as a circuit breaker counts it.
package struct CallOutcome: Sendable, Hashable {
    package var failed: Bool
    package var slow: Bool

    package init(failed: Bool, slow: Bool) {
        self.failed = failed
        self.slow = slow
    }
}

/// Totals over a sliding window.
public struct WindowTotals: Sendable, Hashable {
    public var calls = 0
    public var failures = 0
    public var slowCalls = 0

    public init(calls: Int = 0, failures: Int = 0, slowCalls: Int = 0) {
        self.calls = calls
        self.failures = failures
        self.slowCalls = slowCalls
    }

    /// Failures as a percentage of calls (0 when there are no calls).
    public var failureRate: Double { calls == 0 ? 0 : Double(failures) * 100 / Double(calls) }
    /// Slow calls as a percentage of calls (0 when there are no calls).
    public var slowCallRate: Double { calls == 0 ? 0 : Double(slowCalls) * 100 / Double(calls) }

    mutating func add(_ outcome: CallOutcome) {
        calls += 1
        if outcome.failed { failures += 1 }
        if outcome.slow { slowCalls += 1 }
    }

    mutating func remove(_ outcome: CallOutcome) {
        calls -= 1
        if outcome.failed { failures -= 1 }
        if outcome.slow { slowCalls -= 1 }
    }

    mutating func add(_ other: WindowTotals) {
        calls += other.calls
        failures += other.failures
        slowCalls += other.slowCalls
    }

    mutating func remove(_ other: WindowTotals) {
        calls -= other.calls
        failures -= other.failures
        slowCalls -= other.slowCalls
    }
}

/// The last `size` outcomes, in a ring buffer with running totals: O(1) per call.
package struct CountBasedWindow: Sendable {
    private var ring: [CallOutcome?]
    private var next = 0
    package private(set) var totals = WindowTotals()

    package init(size: Int) {
        ring = Array(repeating: nil, count: size)
    }

    package mutating func record(_ outcome: CallOutcome) {
        if let evicted = ring[next] { totals.remove(evicted) }
        ring[next] = outcome
        totals.add(outcome)
        next = (next + 1) % ring.count
    }
}

/// Outcomes of the last `seconds` seconds, aggregated in one bucket per second with running totals
/// (Resilience4j's partial aggregation): O(1) per call, plus one bucket eviction per elapsed second.
package struct TimeBasedWindow: Sendable {
    private struct Bucket: Sendable {
        var second: Int64
        var totals = WindowTotals()
    }

    private var buckets: [Bucket]
    private var headSecond: Int64
    private var runningTotals = WindowTotals()

    package init(seconds: Int, now: Duration) {
        buckets = Array(repeating: Bucket(second: .min), count: seconds)
        headSecond = Self.second(of: now)
    }

    package mutating func record(_ outcome: CallOutcome, now: Duration) {
        advance(to: Self.second(of: now))
        let index = Int(headSecond % Int64(buckets.count))
        if buckets[index].second != headSecond {
            buckets[index] = Bucket(second: headSecond)
        }
        buckets[index].totals.add(outcome)
        runningTotals.add(outcome)
    }

    package mutating func totals(now: Duration) -> WindowTotals {
        advance(to: Self.second(of: now))
        return runningTotals
    }

    /// Drops the buckets that fell out of the window between the head and `second`.
    private mutating func advance(to second: Int64) {
        guard second > headSecond else { return }
        let size = Int64(buckets.count)
        if second - headSecond >= size {
            for index in buckets.indices { buckets[index] = Bucket(second: .min) }
            runningTotals = WindowTotals()
        } else {
            for expiring in (headSecond + 1)...second {
                let index = Int(expiring % size)
                if buckets[index].second != .min {
                    runningTotals.remove(buckets[index].totals)
                    buckets[index] = Bucket(second: .min)
                }
            }
        }
        headSecond = second
    }

    private static func second(of instant: Duration) -> Int64 {
        instant.components.seconds
    }
}
