import InterchangeCore
import Synchronization

/// Caps retries at a share of recent calls, so retries cannot multiply the load on a dependency that is already failing.
///
/// Modelled on Finagle's `RetryBudget` (and gRPC's retry throttling): every call deposits `ratio` of a retry into
/// the budget, every retry withdraws one, and a floor of `minRetriesPerSecond` lets a quiet client still retry.
/// Deposits expire after `window`, so the budget tracks recent traffic.
///
/// ```swift
/// let budget = try RetryBudget(ratio: 0.2, minRetriesPerSecond: 10, window: .seconds(10))
/// let retry = try RetryStrategy(maxAttempts: 4, budget: budget)   // share the budget across all calls to a host
/// ```
public final class RetryBudget: Sendable {
    /// Retries allowed per call made, e.g. `0.2` for "retries ≤ 20% of calls".
    public let ratio: Double
    /// Retries per second always allowed, whatever the traffic.
    public let minRetriesPerSecond: Double
    /// How long a call's deposit counts.
    public let window: Duration

    private struct Bucket {
        var epoch: Int64 = .min
        var deposits = 0
        var withdrawals = 0
    }

    private struct State {
        var buckets: [Bucket]
    }

    private static let bucketCount = 10
    private let bucketWidth: Duration
    private let clock: ErasedClock
    private let state: Mutex<State>

    /// - Throws: ``ConfigurationError`` naming `ratio`, `minRetriesPerSecond` or `window` when out of range.
    public init(
        ratio: Double = 0.2,
        minRetriesPerSecond: Double = 10,
        window: Duration = .seconds(10),
        clock: some Clock<Duration> = ContinuousClock()
    ) throws {
        try ConfigurationError.require(
            ratio >= 0 && ratio <= 1000 && ratio.isFinite,
            field: "ratio",
            "must be between 0 and 1000",
            got: ratio
        )
        try ConfigurationError.require(
            minRetriesPerSecond >= 0 && minRetriesPerSecond.isFinite,
            field: "minRetriesPerSecond",
            "must not be negative",
            got: minRetriesPerSecond
        )
        try ConfigurationError.require(window >= .milliseconds(10), field: "window", "must be at least 10ms", got: window)
        self.ratio = ratio
        self.minRetriesPerSecond = minRetriesPerSecond
        self.window = window
        self.bucketWidth = window / Self.bucketCount
        self.clock = ErasedClock(clock)
        self.state = Mutex(State(buckets: Array(repeating: Bucket(), count: Self.bucketCount)))
    }

    /// Records a call (its first attempt).
    public func recordCall() {
        let epoch = currentEpoch()
        state.withLock { state in
            Self.bucket(&state, epoch: epoch) { $0.deposits += 1 }
        }
    }

    /// Takes one retry from the budget; `false` when the budget is spent and the caller must not retry.
    public func tryWithdrawRetry() -> Bool {
        let epoch = currentEpoch()
        return state.withLock { state in
            let (deposits, withdrawals) = Self.totals(state, epoch: epoch)
            let allowance = minRetriesPerSecond * window.inSeconds + ratio * Double(deposits)
            guard Double(withdrawals + 1) <= allowance else { return false }
            Self.bucket(&state, epoch: epoch) { $0.withdrawals += 1 }
            return true
        }
    }

    /// Retries the budget would allow right now.
    public var available: Int {
        let epoch = currentEpoch()
        return state.withLock { state in
            let (deposits, withdrawals) = Self.totals(state, epoch: epoch)
            return max(0, Int(minRetriesPerSecond * window.inSeconds + ratio * Double(deposits)) - withdrawals)
        }
    }

    private func currentEpoch() -> Int64 {
        let width = bucketWidth.inSeconds
        return Int64((clock.now.inSeconds / width).rounded(.down))
    }

    private static func bucket(_ state: inout State, epoch: Int64, _ update: (inout Bucket) -> Void) {
        let index = Int(epoch % Int64(bucketCount))
        if state.buckets[index].epoch != epoch {
            state.buckets[index] = Bucket(epoch: epoch)
        }
        update(&state.buckets[index])
    }

    private static func totals(_ state: State, epoch: Int64) -> (deposits: Int, withdrawals: Int) {
        var deposits = 0
        var withdrawals = 0
        for bucket in state.buckets where bucket.epoch > epoch - Int64(bucketCount) && bucket.epoch <= epoch {
            deposits += bucket.deposits
            withdrawals += bucket.withdrawals
        }
        return (deposits, withdrawals)
    }
}
