import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Synchronization

/// Kong's `rate-limiting` with the `local` policy: fixed windows aligned to the clock (the current second, minute,
/// hour, day, month, year in UTC), counted in this process. A request counts against every configured period at
/// once, checked and counted under one lock, so concurrent requests never pass more than the limit.
///
/// Headers (unless `hide_client_headers`): `X-RateLimit-Limit-<Period>` / `X-RateLimit-Remaining-<Period>` for each
/// period, and `RateLimit-Limit` / `-Remaining` / `-Reset` for the period nearest to its limit; over it, `429` (or
/// `error_code`) problem+json with `error_message` and `Retry-After`.
final class RateLimitingPlugin: GatewayPlugin {
    let configuration: RateLimitingConfiguration
    private let now: @Sendable () -> Date
    private let services: [Service]
    private let counters = Mutex<Counters>(Counters())

    /// The count of each (identifier, period, window) with the window's end, pruned of ended windows once there are
    /// many (at most once a second, so a spray of new identifiers does not make every request scan the table).
    private struct Counters {
        var counts: [Key: (count: Int, end: Int64)] = [:]
        var lastPruned: Int64 = 0

        mutating func pruneIfLarge(now seconds: Int64) {
            guard counts.count > 100_000, seconds > lastPruned else { return }
            counts = counts.filter { $0.value.end > seconds }
            lastPruned = seconds
        }
    }

    private struct Key: Hashable {
        let identifier: String
        let period: RateLimitingConfiguration.Period
        let windowStart: Int64
    }

    init(_ configuration: RateLimitingConfiguration, gateway: GatewayConfiguration, now: @escaping @Sendable () -> Date) throws {
        guard configuration.policy == .local else {
            throw GatewayPluginError(
                plugin: "rate-limiting",
                field: "config.policy",
                reason: "'\(configuration.policy.rawValue)' is not supported by the proxy yet; use local"
            )
        }
        self.configuration = configuration
        self.services = gateway.services
        self.now = now
    }

    /// How many (identifier, period, window) counts are held.
    var heldCounts: Int { counters.withLock { $0.counts.count } }

    func access(_ context: inout PluginContext) async throws -> Response? {
        let identifier = identifier(context)
        let instant = now()
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down))
        let periods = RateLimitingConfiguration.Period.allCases.compactMap { period in
            configuration.limits[period].map { (period: period, limit: Int($0.rounded(.down)), window: Self.window(period, at: instant)) }
        }
        // Check every period, then count the request in all of them, in one critical section.
        let keys = periods.map { Key(identifier: identifier, period: $0.period, windowStart: $0.window.start) }
        let (used, allowed): ([Int], Bool) = counters.withLock { counters in
            let used = keys.map { counters.counts[$0]?.count ?? 0 }
            guard zip(used, periods).allSatisfy({ $0 < $1.limit }) else { return (used, false) }
            for (key, period) in zip(keys, periods) {
                counters.counts[key] = (count: (counters.counts[key]?.count ?? 0) + 1, end: period.window.end)
            }
            counters.pruneIfLarge(now: seconds)
            return (used.map { $0 + 1 }, true)
        }
        let remaining = zip(periods, used).map { max(0, $0.limit - $1) }
        let nearest = zip(periods, remaining).min { $0.1 < $1.1 }!
        let reset = max(1, nearest.0.window.end - seconds)
        if !configuration.hideClientHeaders {
            for (period, left) in zip(periods, remaining) {
                let names = Self.headerNames[period.period]!
                context.responseHeaders[names.limit] = String(period.limit)
                context.responseHeaders[names.remaining] = String(left)
            }
            context.responseHeaders[.rateLimitLimit] = String(nearest.0.limit)
            context.responseHeaders[.rateLimitRemaining] = String(nearest.1)
            context.responseHeaders[.rateLimitReset] = String(reset)
        }
        guard !allowed else { return nil }
        // Over the limit: wait until every exhausted window has ended.
        let retryAfter = zip(periods, remaining).filter { $0.1 == 0 }.map { $0.0.window.end - seconds }.max() ?? reset
        var headers = HTTPFields()
        headers[.retryAfter] = String(max(1, retryAfter))
        return GatewayProblem.response(
            Int(configuration.errorCode),
            "rate-limited",
            "Too Many Requests",
            configuration.errorMessage,
            headers: headers,
            correlationID: context.correlationID
        )
    }

    /// Kong's identifiers; consumer, credential and header fall back to the client's address when absent.
    private func identifier(_ context: PluginContext) -> String {
        let ip = context.clientAddress ?? "unknown"
        switch configuration.limitBy {
        case .consumer:
            return context.consumer.map { "consumer:\($0.position)" } ?? context.externalConsumer.map { "user:\($0)" } ?? "ip:\(ip)"
        case .credential: return context.credential.map { "credential:\($0)" } ?? "ip:\(ip)"
        case .ip: return "ip:\(ip)"
        case .service:
            return context.service.map { "service:\(services[$0.position].id ?? services[$0.position].name ?? "\($0.position)")" } ?? "service:none"
        case .header(let name): return HTTPField.Name(name).flatMap { context.head.headerFields[$0] }.map { "header:\($0)" } ?? "ip:\(ip)"
        case .path(let path): return "path:\(path)"
        }
    }

    /// `X-RateLimit-Limit-<Period>` and `X-RateLimit-Remaining-<Period>` for each period.
    private static let headerNames: [RateLimitingConfiguration.Period: (limit: HTTPField.Name, remaining: HTTPField.Name)] =
        Dictionary(
            uniqueKeysWithValues: RateLimitingConfiguration.Period.allCases.map { period in
                let suffix = period.rawValue.capitalized
                return (period, (HTTPField.Name("X-RateLimit-Limit-\(suffix)")!, HTTPField.Name("X-RateLimit-Remaining-\(suffix)")!))
            }
        )

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// The window of `period` that holds `instant`: its start and end, in seconds since 1970.
    static func window(_ period: RateLimitingConfiguration.Period, at instant: Date) -> (start: Int64, end: Int64) {
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down))
        let fixed: Int64? =
            switch period {
            case .second: 1
            case .minute: 60
            case .hour: 3600
            case .day: 86_400
            case .month, .year: nil
            }
        if let fixed {
            let start = seconds - ((seconds % fixed) + fixed) % fixed
            return (start, start + fixed)
        }
        let component: Calendar.Component = period == .month ? .month : .year
        let interval = utc.dateInterval(of: component, for: instant)!
        return (Int64(interval.start.timeIntervalSince1970), Int64(interval.end.timeIntervalSince1970))
    }
}

extension HTTPField.Name {
    static let rateLimitLimit = Self("RateLimit-Limit")!
    static let rateLimitRemaining = Self("RateLimit-Remaining")!
    static let rateLimitReset = Self("RateLimit-Reset")!
}
