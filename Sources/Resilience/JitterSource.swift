import Synchronization

/// Where jitter comes from: the system's random numbers in production, a seeded or fixed sequence in tests.
///
/// ```swift
/// let retry = try RetryStrategy(maxAttempts: 5, jitterSource: .seeded(42))   // same delays every run
/// ```
public struct JitterSource: Sendable {
    private let nextUnit: @Sendable () -> Double

    /// A source that yields values from `next`, which must return numbers in `0..<1`.
    public init(_ next: @escaping @Sendable () -> Double) {
        self.nextUnit = next
    }

    /// A uniformly distributed value in `0..<1`.
    public func next() -> Double { nextUnit() }

    /// A uniformly distributed value in `lower...upper`.
    public func uniform(_ lower: Double, _ upper: Double) -> Double {
        guard upper > lower else { return lower }
        return lower + (upper - lower) * next()
    }

    /// The system random number generator.
    public static let system = JitterSource { Double.random(in: 0..<1) }

    /// Always `value` (clamped to `0..<1`): makes jittered delays exactly predictable.
    public static func fixed(_ value: Double) -> JitterSource {
        let clamped = min(max(value, 0), 0.999_999_999)
        return JitterSource { clamped }
    }

    /// A deterministic SplitMix64 sequence from `seed`.
    public static func seeded(_ seed: UInt64) -> JitterSource {
        let state = Mutex(seed)
        return JitterSource {
            let value = state.withLock { state -> UInt64 in
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            return Double(value >> 11) * 0x1.0p-53
        }
    }
}
