import Foundation
import Gateway
import Persistence
import SQLKit
import Synchronization

/// One period's window a request is counted in.
struct RateLimitWindow: Sendable {
    let period: RateLimitingConfiguration.Period
    let limit: Int
    /// The current window, in seconds since 1970.
    let start: Int64
    let end: Int64
    /// Sliding windows: the previous window's start, and the share of it still inside the period ending now (0…1).
    let previousStart: Int64?
    let previousWeight: Double

    /// The requests that count against the limit: the current window's, and the previous window's carried share.
    func used(_ usage: RateLimitUsage) -> Int { usage.current + Int((Double(usage.previous) * previousWeight).rounded(.down)) }

    /// When a count of this window may be forgotten: once it can no longer be the previous window of a sliding one.
    var expires: Int64 { previousStart == nil ? end : end + (end - start) }
}

/// A window's count, and its previous window's (0 for fixed windows), this request included when it passed.
struct RateLimitUsage: Sendable, Hashable {
    var current: Int
    var previous = 0
}

/// Where `rate-limiting` counts: in this process (`local`) or in the database every gateway process shares
/// (`cluster`). Either checks every window and counts the request in all of them, or in none, atomically.
protocol RateLimitCounters: Sendable {
    /// Counts one request of `identifier` in every window when each still has room (``RateLimitWindow/used(_:)``
    /// below its limit). Returns each window's usage, this request included when it passed.
    func take(_ identifier: String, in windows: [RateLimitWindow], now: Int64) async throws -> (usage: [RateLimitUsage], allowed: Bool)
}

/// The `local` policy's counters: per (identifier, period, window start), under one lock, so concurrent requests
/// never pass more than the limit. Counts no window can use any more are pruned once there are many (at most once a
/// second, so a spray of new identifiers does not make every request scan the table).
final class LocalRateLimitCounters: RateLimitCounters {
    private struct Key: Hashable {
        let identifier: String
        let period: RateLimitingConfiguration.Period
        let windowStart: Int64
    }

    private struct Counts {
        var counts: [Key: (count: Int, expires: Int64)] = [:]
        var lastPruned: Int64 = 0
    }

    private let state = Mutex(Counts())
    private let pruneAbove: Int

    init(pruneAbove: Int = 100_000) { self.pruneAbove = pruneAbove }

    /// How many counts are held.
    var held: Int { state.withLock { $0.counts.count } }

    func take(_ identifier: String, in windows: [RateLimitWindow], now: Int64) -> (usage: [RateLimitUsage], allowed: Bool) {
        let keys = windows.map { Key(identifier: identifier, period: $0.period, windowStart: $0.start) }
        return state.withLock { state in
            let usage = zip(keys, windows).map { key, window in
                let previous = window.previousStart.map {
                    state.counts[Key(identifier: identifier, period: window.period, windowStart: $0)]?.count ?? 0
                }
                return RateLimitUsage(current: state.counts[key]?.count ?? 0, previous: previous ?? 0)
            }
            guard zip(usage, windows).allSatisfy({ $1.used($0) < $1.limit }) else { return (usage, false) }
            for (key, window) in zip(keys, windows) {
                state.counts[key] = (count: (state.counts[key]?.count ?? 0) + 1, expires: window.expires)
            }
            if state.counts.count > pruneAbove, now > state.lastPruned {
                state.counts = state.counts.filter { $0.value.expires > now }
                state.lastPruned = now
            }
            return (usage.map { RateLimitUsage(current: $0.current + 1, previous: $0.previous) }, true)
        }
    }
}

/// The `cluster` policy's counters: rows of `gateway_rate_limits` in the database every gateway process shares
/// (PostgreSQL across hosts; SQLite on one). A request's windows are checked and counted in one transaction, each
/// by a conditional upsert (`… ON CONFLICT DO UPDATE SET hits = hits + 1 WHERE hits < room`), which the database
/// serialises per row: however many processes count at once, no window passes more than its limit. A lone fixed
/// window is one statement, no transaction. Rows no window can use any more are deleted at most once a minute.
final class ClusterRateLimitCounters: RateLimitCounters {
    private let database: Database
    /// Which plugin instance the rows are of (its `id`, or its position in the file).
    private let scope: String
    private let lastPruned = Atomic<Int64>(0)

    static let migrations = [
        Migration("gateway-rate-limits-1") { sql, _ in
            try await sql.raw(
                """
                CREATE TABLE gateway_rate_limits (
                    scope TEXT NOT NULL, identifier TEXT NOT NULL, period TEXT NOT NULL, window_start BIGINT NOT NULL,
                    hits BIGINT NOT NULL, expires_at BIGINT NOT NULL,
                    PRIMARY KEY (scope, identifier, period, window_start))
                """
            ).run()
            try await sql.raw("CREATE INDEX gateway_rate_limits_expiry ON gateway_rate_limits (expires_at)").run()
        }
    ]

    /// Applies the table's migrations; call once per database before counting.
    static func prepare(_ database: Database) async throws { try await database.migrate(migrations) }

    init(database: Database, scope: String) {
        self.database = database
        self.scope = scope
    }

    private struct Denied: Error { let usage: [RateLimitUsage] }

    func take(_ identifier: String, in windows: [RateLimitWindow], now: Int64) async throws -> (usage: [RateLimitUsage], allowed: Bool) {
        try await pruneIfDue(now: now)
        let scope = scope
        if windows.count == 1, windows[0].previousStart == nil {
            let window = windows[0]
            let hits = try await database.write { sql in try await Self.count(sql, scope, identifier, window, room: window.limit) }
            return ([RateLimitUsage(current: hits ?? window.limit)], hits != nil)
        }
        do {
            let usage = try await database.transaction { sql in
                var usage: [RateLimitUsage] = []
                for (position, window) in windows.enumerated() {
                    let previous = try await Self.previousHits(sql, scope, identifier, window)
                    let room = window.limit - window.used(RateLimitUsage(current: 0, previous: previous))
                    if let hits = try await Self.count(sql, scope, identifier, window, room: room) {
                        usage.append(RateLimitUsage(current: hits, previous: previous))
                        continue
                    }
                    // Over this window's limit: report every window as it stands (the transaction is rolled back).
                    usage = usage.map { RateLimitUsage(current: $0.current - 1, previous: $0.previous) }
                    for window in windows[position...] {
                        let previous = try await Self.previousHits(sql, scope, identifier, window)
                        let current = try await Self.hits(sql, scope, identifier, window.period, window.start)
                        usage.append(RateLimitUsage(current: current, previous: previous))
                    }
                    throw Denied(usage: usage)
                }
                return usage
            }
            return (usage, true)
        } catch let denied as Denied {
            return (denied.usage, false)
        }
    }

    private static func previousHits(_ sql: any SQLDatabase, _ scope: String, _ identifier: String, _ window: RateLimitWindow) async throws -> Int {
        guard let start = window.previousStart else { return 0 }
        return try await hits(sql, scope, identifier, window.period, start)
    }

    /// Counts a request in `window` when its hits so far are below `room`: the hits after counting, or nil.
    private static func count(
        _ sql: any SQLDatabase,
        _ scope: String,
        _ identifier: String,
        _ window: RateLimitWindow,
        room: Int
    ) async throws -> Int? {
        guard room > 0 else { return nil }
        let row = try await sql.raw(
            """
            INSERT INTO gateway_rate_limits (scope, identifier, period, window_start, hits, expires_at)
            VALUES (\(bind: scope), \(bind: identifier), \(bind: window.period.rawValue), \(bind: window.start), 1, \(bind: window.expires))
            ON CONFLICT (scope, identifier, period, window_start)
            DO UPDATE SET hits = gateway_rate_limits.hits + 1 WHERE gateway_rate_limits.hits < \(bind: room)
            RETURNING hits
            """
        ).first()
        return try row.map { Int(try $0.decode(column: "hits", as: Int64.self)) }
    }

    private static func hits(
        _ sql: any SQLDatabase,
        _ scope: String,
        _ identifier: String,
        _ period: RateLimitingConfiguration.Period,
        _ start: Int64
    ) async throws -> Int {
        let row = try await sql.raw(
            """
            SELECT hits FROM gateway_rate_limits
            WHERE scope = \(bind: scope) AND identifier = \(bind: identifier) AND period = \(bind: period.rawValue) AND window_start = \(bind: start)
            """
        ).first()
        return try row.map { Int(try $0.decode(column: "hits", as: Int64.self)) } ?? 0
    }

    /// Deletes the rows no window can use any more, at most once a minute per process: one request a minute pays
    /// for an indexed delete (inline, so nothing outlives the plugin's use of the database).
    private func pruneIfDue(now: Int64) async throws {
        let last = lastPruned.load(ordering: .relaxed)
        guard now >= last + 60, lastPruned.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged else { return }
        try await database.write { sql in try await sql.raw("DELETE FROM gateway_rate_limits WHERE expires_at <= \(bind: now)").run() }
    }
}
