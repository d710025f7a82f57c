import InterchangeCore

/// How long to wait before each retry.
///
/// The jitter modes follow the AWS Architecture Blog's "Exponential Backoff and Jitter": jitter spreads
/// the retries of many clients over time so they do not hit a recovering server in synchronised waves.
///
/// ```swift
/// let backoff = try Backoff.exponential(initial: .milliseconds(100), maxDelay: .seconds(10), jitter: .full)
/// ```
public struct Backoff: Sendable, Hashable {
    /// How the base delay grows from one retry to the next.
    public enum Growth: Sendable, Hashable {
        /// The same delay every time.
        case constant
        /// `initial + n × initial`.
        case linear
        /// `initial × multiplierⁿ`.
        case exponential(multiplier: Double)
    }

    /// How randomness is applied to the base delay.
    public enum Jitter: Sendable, Hashable {
        /// Exactly the base delay.
        case none
        /// Uniform in `0...base` ("full jitter": the fewest collisions, the AWS recommendation).
        case full
        /// `base/2 + uniform(0...base/2)` ("equal jitter": never less than half the base).
        case equal
        /// `min(maxDelay, uniform(initial...previous×3))` ("decorrelated jitter").
        case decorrelated
    }

    public let initial: Duration
    public let maxDelay: Duration
    public let growth: Growth
    public let jitter: Jitter

    /// - Throws: ``ConfigurationError`` naming `initial`, `maxDelay` or `multiplier` when negative or inconsistent.
    public init(initial: Duration, maxDelay: Duration, growth: Growth, jitter: Jitter) throws {
        try ConfigurationError.require(initial >= .zero, field: "initial", "must not be negative", got: initial)
        try ConfigurationError.require(maxDelay >= .zero, field: "maxDelay", "must not be negative", got: maxDelay)
        try ConfigurationError.require(
            maxDelay >= initial,
            field: "maxDelay",
            "must be at least the initial delay \(initial)",
            got: maxDelay
        )
        if case .exponential(let multiplier) = growth {
            try ConfigurationError.require(
                multiplier >= 1 && multiplier.isFinite,
                field: "multiplier",
                "must be a finite number ≥ 1",
                got: multiplier
            )
        }
        self.init(checked: initial, maxDelay: maxDelay, growth: growth, jitter: jitter)
    }

    private init(checked initial: Duration, maxDelay: Duration, growth: Growth, jitter: Jitter) {
        self.initial = initial
        self.maxDelay = maxDelay
        self.growth = growth
        self.jitter = jitter
    }

    /// Exponential growth (doubling by default), capped at `maxDelay`.
    public static func exponential(
        initial: Duration = .milliseconds(200),
        multiplier: Double = 2,
        maxDelay: Duration = .seconds(30),
        jitter: Jitter = .full
    ) throws -> Backoff {
        try Backoff(initial: initial, maxDelay: maxDelay, growth: .exponential(multiplier: multiplier), jitter: jitter)
    }

    /// The same delay before every retry.
    public static func constant(_ delay: Duration, jitter: Jitter = .none) throws -> Backoff {
        try Backoff(initial: delay, maxDelay: delay, growth: .constant, jitter: jitter)
    }

    /// The default: exponential from 200 ms, doubling, capped at 30 s, full jitter.
    public static let standard = Backoff(
        checked: .milliseconds(200),
        maxDelay: .seconds(30),
        growth: .exponential(multiplier: 2),
        jitter: .full
    )

    /// The delay before retry number `retry` (1 for the first retry), given the delay used before the previous one.
    public func delay(beforeRetry retry: Int, previousDelay: Duration, jitterSource: JitterSource) -> Duration {
        let cap = maxDelay.inSeconds
        let base: Double
        switch growth {
        case .constant:
            base = initial.inSeconds
        case .linear:
            base = initial.inSeconds * Double(retry)
        case .exponential(let multiplier):
            // Guard the exponent so huge retry counts cannot overflow to infinity before the cap applies.
            base = initial.inSeconds * pow(multiplier, Double(min(retry - 1, 1023)))
        }
        let capped = min(cap, base)
        let seconds: Double
        switch jitter {
        case .none:
            seconds = capped
        case .full:
            seconds = jitterSource.uniform(0, capped)
        case .equal:
            seconds = capped / 2 + jitterSource.uniform(0, capped / 2)
        case .decorrelated:
            let previous = retry == 1 ? initial.inSeconds : previousDelay.inSeconds
            seconds = min(cap, jitterSource.uniform(initial.inSeconds, max(initial.inSeconds, previous * 3)))
        }
        return .fromSeconds(seconds)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
