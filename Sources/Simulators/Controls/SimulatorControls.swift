import Synchronization

/// The fault switches and request counters of one simulator, shared by its routes and safe to change while
/// requests are in flight (state behind a `Mutex`).
///
/// ```swift
/// let controls = SimulatorControls()
/// let simulator = OpenWeatherMapSimulator(controls: controls)
/// controls.errorRate = 0.25          // every 4th request answers 503
/// controls.latency = .milliseconds(150)
/// // … exercise the client …
/// #expect(controls.requestCount(for: "/data/2.5/weather") == 8)
/// ```
///
/// Over HTTP: `GET <base>/_sim/control`, `PUT <base>/_sim/control` with a partial JSON object
/// (`{"outage":true}`, `{"latencyMs":250,"errorRate":0.5}`), and `POST <base>/_sim/reset`.
public final class SimulatorControls: Sendable {
    /// The switches, as a value.
    public struct Settings: Sendable, Hashable {
        /// Added to every API request before it is answered (real time).
        public var latency: Duration
        /// The fraction of API requests answered `503`, in `0...1`. Deterministic, not random: with `0.25` the
        /// 4th, 8th, 12th… request since the rate was set (or the controls reset) fails, so tests can count.
        public var errorRate: Double
        /// Every API request is answered `503`.
        public var outage: Bool
        /// Every API request gets the API's own rate-limit answer (429, or GitHub's `RATE_LIMIT` error).
        public var rateLimited: Bool

        public init(latency: Duration = .zero, errorRate: Double = 0, outage: Bool = false, rateLimited: Bool = false) {
            self.latency = latency
            self.errorRate = errorRate
            self.outage = outage
            self.rateLimited = rateLimited
        }
    }

    /// What the fault middleware does with one request.
    struct Admission: Sendable {
        var latency: Duration
        /// Answer `503` instead of serving the request.
        var unavailable: Bool
    }

    private struct State {
        var settings: Settings
        var requestCounts: [String: Int] = [:]
        var totalRequests = 0
        /// Requests seen since `errorRate` was last set, for the deterministic failure sequence.
        var errorSequence = 0
    }

    private let initial: Settings
    private let state: Mutex<State>

    /// Waits out the configured latency; on the clock given at init.
    let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameter clock: the clock latency is waited on (tests pass a manual one).
    public init(_ settings: Settings = Settings(), clock: some Clock<Duration> & Sendable = ContinuousClock()) {
        initial = settings
        state = Mutex(State(settings: settings))
        sleep = { try await clock.sleep(for: $0) }
    }

    /// The current switches.
    public var settings: Settings {
        get { state.withLock { $0.settings } }
        set {
            state.withLock { state in
                if newValue.errorRate != state.settings.errorRate { state.errorSequence = 0 }
                state.settings = Self.validated(newValue)
            }
        }
    }

    public var latency: Duration {
        get { settings.latency }
        set { update { $0.latency = newValue } }
    }

    public var errorRate: Double {
        get { settings.errorRate }
        set { update { $0.errorRate = newValue } }
    }

    public var outage: Bool {
        get { settings.outage }
        set { update { $0.outage = newValue } }
    }

    public var rateLimited: Bool {
        get { settings.rateLimited }
        set { update { $0.rateLimited = newValue } }
    }

    /// Changes several switches at once, atomically.
    public func update(_ change: (inout Settings) -> Void) {
        state.withLock { state in
            var settings = state.settings
            change(&settings)
            if settings.errorRate != state.settings.errorRate { state.errorSequence = 0 }
            state.settings = Self.validated(settings)
        }
    }

    /// API requests received for `path` (the API's own path, without the base path: `/data/2.5/weather`),
    /// including those answered with an injected fault.
    public func requestCount(for path: String) -> Int {
        state.withLock { $0.requestCounts[path, default: 0] }
    }

    /// API requests received, by path.
    public var requestCounts: [String: Int] {
        state.withLock { $0.requestCounts }
    }

    /// API requests received in all.
    public var totalRequests: Int {
        state.withLock { $0.totalRequests }
    }

    /// Puts the switches back to the values the controls were created with and zeroes the counters.
    public func reset() {
        state.withLock { $0 = State(settings: initial) }
    }

    /// Counts a request to `path` and decides whether to fail it.
    func admit(path: String) -> Admission {
        state.withLock { state in
            state.totalRequests += 1
            state.requestCounts[path, default: 0] += 1
            let settings = state.settings
            if settings.outage { return Admission(latency: settings.latency, unavailable: true) }
            guard settings.errorRate > 0 else { return Admission(latency: settings.latency, unavailable: false) }
            state.errorSequence += 1
            return Admission(latency: settings.latency, unavailable: Self.fails(request: state.errorSequence, rate: settings.errorRate))
        }
    }

    /// Whether the `n`-th request (from 1) fails at `rate`: when `⌊n·rate⌋` steps up, which fails exactly
    /// `⌊n·rate⌋` of the first `n` requests, evenly spread.
    static func fails(request n: Int, rate: Double) -> Bool {
        let epsilon = 1e-9
        return Int((Double(n) * rate + epsilon).rounded(.down)) > Int((Double(n - 1) * rate + epsilon).rounded(.down))
    }

    private static func validated(_ settings: Settings) -> Settings {
        var settings = settings
        settings.errorRate = min(max(settings.errorRate.isNaN ? 0 : settings.errorRate, 0), 1)
        if settings.latency < .zero { settings.latency = .zero }
        return settings
    }
}
