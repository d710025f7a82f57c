import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Logging
import Persistence

/// Kong's `rate-limiting`: windows aligned to the clock (the current second, minute, hour, day, month, year in
/// UTC) — fixed, as in Kong OSS, or sliding (`window_type: sliding`: the current window's count plus the previous
/// window's weighted by how much of it the period ending now still covers). A request counts against every
/// configured period at once, in the `local` policy's counters (this process) or the `cluster` policy's (the
/// database), checked and counted atomically, so concurrent requests never pass more than the limit.
///
/// Headers (unless `hide_client_headers`): `X-RateLimit-Limit-<Period>` / `X-RateLimit-Remaining-<Period>` for each
/// period, and `RateLimit-Limit` / `-Remaining` / `-Reset` for the period nearest to its limit; over it, `429` (or
/// `error_code`) problem+json with `error_message` and `Retry-After`. Counters that cannot be reached (the cluster's
/// database down) let requests through with `fault_tolerant` (Kong's default), or answer 500 without it.
final class RateLimitingPlugin: GatewayPlugin {
    let configuration: RateLimitingConfiguration
    private let now: @Sendable () -> Date
    private let services: [Service]
    private let consumers: [Consumer]
    private let counters: any RateLimitCounters
    private let logger: Logger

    /// - Parameter database: where the `cluster` policy counts (required for it), its rows kept apart by `scope`.
    init(
        _ configuration: RateLimitingConfiguration,
        gateway: GatewayConfiguration,
        scope: String = "",
        database: Database? = nil,
        now: @escaping @Sendable () -> Date,
        logger: Logger = Logger(label: "interchange.gateway")
    ) throws {
        switch configuration.policy {
        case .local: counters = LocalRateLimitCounters()
        case .cluster:
            guard let database else {
                throw GatewayPluginError(
                    plugin: "rate-limiting",
                    field: "config.policy",
                    reason:
                        "'cluster' counts in the database the gateway processes share: start the gateway with --database (a postgres:// or sqlite: URL)"
                )
            }
            counters = ClusterRateLimitCounters(database: database, scope: scope)
        }
        self.configuration = configuration
        self.services = gateway.services
        self.consumers = gateway.consumers
        self.now = now
        self.logger = logger
    }

    /// How many (identifier, period, window) counts the local policy holds.
    var heldCounts: Int { (counters as? LocalRateLimitCounters)?.held ?? 0 }

    func access(_ context: inout PluginContext) async throws -> Response? {
        let identifier = identifier(context)
        let instant = now()
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down))
        let windows = RateLimitingConfiguration.Period.allCases.compactMap { period in
            configuration.limits[period].map { Self.window(period, limit: Int($0.rounded(.down)), at: instant, type: configuration.windowType) }
        }
        let usage: [RateLimitUsage]
        let allowed: Bool
        do {
            (usage, allowed) = try await counters.take(identifier, in: windows, now: seconds)
        } catch {
            logger.error(
                "gateway: rate-limiting counters unavailable",
                metadata: ["policy": "\(configuration.policy.rawValue)", "error": "\(error)"]
            )
            guard !configuration.faultTolerant else { return nil }
            return GatewayProblem.response(
                500,
                "rate-limit-counters-unavailable",
                "Rate limit counters unavailable",
                "the rate-limiting counters could not be reached, and the plugin is not fault tolerant",
                correlationID: context.correlationID
            )
        }
        let remaining = zip(windows, usage).map { max(0, $0.limit - $0.used($1)) }
        let nearest = zip(windows, remaining).min { $0.1 < $1.1 }!
        let reset = max(1, nearest.0.end - seconds)
        if !configuration.hideClientHeaders {
            for (window, left) in zip(windows, remaining) {
                let names = Self.headerNames[window.period]!
                context.responseHeaders[names.limit] = String(window.limit)
                context.responseHeaders[names.remaining] = String(left)
            }
            context.responseHeaders[.rateLimitLimit] = String(nearest.0.limit)
            context.responseHeaders[.rateLimitRemaining] = String(nearest.1)
            context.responseHeaders[.rateLimitReset] = String(reset)
        }
        guard !allowed else { return nil }
        // Over the limit: wait until every exhausted window has room again.
        let waits = zip(windows, usage).filter { $0.used($1) >= $0.limit }.map { Self.secondsUntilRoom($0, usage: $1, at: instant) }
        var headers = HTTPFields()
        headers[.retryAfter] = String(max(1, waits.max() ?? reset))
        return GatewayProblem.response(
            Int(configuration.errorCode),
            "rate-limited",
            "Too Many Requests",
            configuration.errorMessage,
            headers: headers,
            correlationID: context.correlationID
        )
    }

    /// Seconds until a full window has room for one more request: a fixed one when it ends. A sliding one once the
    /// previous window's carried share (its count × the part of it the period still covers, falling to 0 at the
    /// window's end) has shrunk below the room the current count leaves; when the current window alone is full, once
    /// the next window carries little enough of it.
    static func secondsUntilRoom(_ window: RateLimitWindow, usage: RateLimitUsage, at instant: Date) -> Int64 {
        let now = instant.timeIntervalSince1970
        let (end, length) = (Double(window.end), Double(window.end - window.start))
        guard window.previousStart != nil else { return Int64((end - now).rounded(.up)) }
        let (limit, current, previous) = (Double(window.limit), Double(usage.current), Double(usage.previous))
        let at =
            current < limit
            ? end - length * (limit - current) / previous
            : end + length - length * limit / current
        // Strictly after that instant: at it, the carried share is still exactly enough to refuse.
        return Int64((at - now).rounded(.down)) + 1
    }

    /// Kong's identifiers; consumer, credential and header fall back to the client's address when absent. Entities
    /// are named by id (or name) rather than place, so the cluster's rows still mean them after a reload.
    private func identifier(_ context: PluginContext) -> String {
        let ip = context.clientAddress ?? "unknown"
        switch configuration.limitBy {
        case .consumer:
            let consumer = context.consumer.map { consumers[$0.position].id ?? consumers[$0.position].username ?? "#\($0.position)" }
            return consumer.map { "consumer:\($0)" } ?? context.externalConsumer.map { "user:\($0)" } ?? "ip:\(ip)"
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

    /// The window of `period` that holds `instant`; a sliding one with its previous window and that window's share
    /// still inside the period ending at `instant`.
    static func window(
        _ period: RateLimitingConfiguration.Period,
        limit: Int,
        at instant: Date,
        type: RateLimitingConfiguration.WindowType
    ) -> RateLimitWindow {
        let (start, end) = bounds(period, at: instant)
        guard type == .sliding else {
            return RateLimitWindow(period: period, limit: limit, start: start, end: end, previousStart: nil, previousWeight: 0)
        }
        let elapsed = instant.timeIntervalSince1970 - Double(start)
        let weight = min(1, max(0, 1 - elapsed / Double(end - start)))
        let previous = bounds(period, at: Date(timeIntervalSince1970: Double(start - 1)))
        return RateLimitWindow(period: period, limit: limit, start: start, end: end, previousStart: previous.start, previousWeight: weight)
    }

    /// The fixed window of `period` that holds `instant`: its start and end, in seconds since 1970.
    static func bounds(_ period: RateLimitingConfiguration.Period, at instant: Date) -> (start: Int64, end: Int64) {
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
