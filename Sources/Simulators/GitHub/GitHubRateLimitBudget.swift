import Foundation
import InterchangeCore

/// GitHub's primary GraphQL rate limit as a state machine: each token has a budget of `limit` points per
/// window; the window opens with the token's first request and resets `window` later (GitHub: 5000 points an
/// hour for a user token). No I/O and no clock of its own: callers pass `now`.
///
/// ```swift
/// var budget = GitHubRateLimitBudget(limit: 2)
/// budget.charge(token: "t", cost: 1, now: now)   // .charged(remaining 1)
/// budget.charge(token: "t", cost: 1, now: now)   // .charged(remaining 0)
/// budget.charge(token: "t", cost: 1, now: now)   // .exhausted(remaining 0)
/// ```
struct GitHubRateLimitBudget: Sendable {
    /// The budget of one token at one moment, as the `x-ratelimit-*` headers and `rateLimit` report it.
    struct Snapshot: Sendable, Hashable {
        var limit: Int
        var used: Int
        var resetAt: Date
        var remaining: Int { max(0, limit - used) }
    }

    enum Outcome: Sendable, Hashable {
        /// The query may run; the snapshot includes its cost.
        case charged(Snapshot)
        /// Not enough points left; nothing was charged.
        case exhausted(Snapshot)
    }

    private struct Window: Sendable {
        var resetAt: Date
        var used: Int
    }

    let limit: Int
    let window: Duration
    private var windows: [String: Window] = [:]

    init(limit: Int = 5_000, window: Duration = .seconds(3_600)) {
        self.limit = limit
        self.window = window
    }

    /// The token's budget now, opening a new window if it has none or the last one has passed.
    mutating func snapshot(token: String, now: Date) -> Snapshot {
        let current = openWindow(token: token, now: now)
        return Snapshot(limit: limit, used: current.used, resetAt: current.resetAt)
    }

    /// Charges `cost` points if the token has them.
    mutating func charge(token: String, cost: Int, now: Date) -> Outcome {
        var current = openWindow(token: token, now: now)
        guard limit - current.used >= cost else {
            return .exhausted(Snapshot(limit: limit, used: current.used, resetAt: current.resetAt))
        }
        current.used += cost
        windows[token] = current
        return .charged(Snapshot(limit: limit, used: current.used, resetAt: current.resetAt))
    }

    /// Forgets every window: all tokens start afresh.
    mutating func reset() {
        windows = [:]
    }

    private mutating func openWindow(token: String, now: Date) -> Window {
        if let existing = windows[token], existing.resetAt > now { return existing }
        let seconds = window.inSeconds
        // GitHub reports whole seconds.
        let fresh = Window(resetAt: Date(timeIntervalSince1970: (now.timeIntervalSince1970 + seconds).rounded(.down)), used: 0)
        windows[token] = fresh
        return fresh
    }
}
