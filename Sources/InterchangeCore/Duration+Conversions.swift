/// The `Duration` conversions Interchange needs, in one place: seconds as a `Double` (rates, `Retry-After`,
/// JSON), whole milliseconds (stored timestamps and intervals), nanoseconds (metrics timers).
extension Duration {
    /// The duration in seconds, as a `Double`.
    @inlinable
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// The duration in milliseconds, as a `Double`.
    @inlinable
    public var inMilliseconds: Double { inSeconds * 1000 }

    /// Whole milliseconds, rounded towards zero.
    @inlinable
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole nanoseconds, clamped to `Int64.max` (what swift-metrics' timers take).
    @inlinable
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        guard seconds < Int64.max / 1_000_000_000 else { return .max }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Whole seconds, rounded up, at least `minimum` (what a `Retry-After` header says).
    @inlinable
    public func wholeSecondsRoundedUp(minimum: Int64 = 0) -> Int64 {
        let (seconds, attoseconds) = components
        return max(minimum, seconds + (attoseconds > 0 ? 1 : 0))
    }

    /// A duration of `seconds`, clamped to the representable range.
    @inlinable
    public static func fromSeconds(_ seconds: Double) -> Duration {
        guard seconds.isFinite else { return seconds > 0 ? .seconds(Int64.max / 2) : .zero }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
