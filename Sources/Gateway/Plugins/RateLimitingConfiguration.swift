/// Kong's `rate-limiting` plugin: limits per second, minute, hour, day, month and year, in fixed windows (Kong OSS)
/// or sliding ones (`window_type: sliding`, as Kong Enterprise's rate-limiting-advanced names it).
public struct RateLimitingConfiguration: Hashable, Sendable {
    public enum Period: String, Hashable, Sendable, CaseIterable { case second, minute, hour, day, month, year }

    public enum LimitBy: Hashable, Sendable {
        case consumer, credential, ip, service
        case header(String)
        case path(String)
    }

    public enum WindowType: String, Hashable, Sendable {
        /// Windows aligned to the clock: a burst at the end of one and the start of the next can pass twice the limit.
        case fixed
        /// The last period up to now, estimated from the current window's count and the previous window's count
        /// weighted by how much of it is still inside the period (the sliding-window counter).
        case sliding
    }

    public enum Policy: String, Hashable, Sendable {
        /// Counters in this process.
        case local
        /// Counters in the database, shared by every gateway process.
        case cluster
    }

    /// The limits set, in period order (at least one; a longer period's limit is never lower than a shorter one's).
    public var limits: [Period: Double]
    public var limitBy: LimitBy = .consumer
    public var policy: Policy = .local
    public var windowType: WindowType = .fixed
    /// Let requests through when the counters cannot be reached.
    public var faultTolerant = true
    public var hideClientHeaders = false
    public var errorCode: Double = 429
    public var errorMessage = "API rate limit exceeded"

    public init(limits: [Period: Double]) { self.limits = limits }

    init(reading config: ObjectReader) {
        var limits: [Period: Double] = [:]
        for period in Period.allCases {
            if let limit = config.number(period.rawValue, greaterThan: 0) { limits[period] = limit }
        }
        self.limits = limits
        if limits.isEmpty {
            config.report(
                nil,
                "at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'"
            )
        }
        // Kong: a longer period cannot have a lower limit than a shorter one.
        for (index, shorter) in Period.allCases.enumerated() {
            guard let low = limits[shorter] else { continue }
            for longer in Period.allCases.dropFirst(index + 1) {
                if let high = limits[longer], high < low {
                    config.report(
                        longer.rawValue,
                        "the limit for \(longer.rawValue) (\(high.formatted)) cannot be lower than the limit for \(shorter.rawValue) (\(low.formatted))"
                    )
                }
            }
        }
        let headerName = config.string("header_name", validate: Validators.headerName)
        let path = config.string("path", validate: Validators.path)
        switch config.string("limit_by", default: "consumer") ?? "consumer" {
        case "consumer": limitBy = .consumer
        case "credential": limitBy = .credential
        case "ip": limitBy = .ip
        case "service": limitBy = .service
        case "header":
            if let headerName { limitBy = .header(headerName) } else { config.report("header_name", "required field missing (limit_by is 'header')") }
        case "path":
            if let path { limitBy = .path(path) } else { config.report("path", "required field missing (limit_by is 'path')") }
        case let other: config.report("limit_by", "expected one of: consumer, credential, ip, service, header, path (got '\(other)')")
        }
        switch config.string("policy", default: "local") ?? "local" {
        case "local": policy = .local
        case "cluster": policy = .cluster
        case "redis": config.report("policy", "not supported yet (redis); use 'local' or 'cluster' (counters in PostgreSQL)")
        case let other: config.report("policy", "expected one of: local, cluster, redis (got '\(other)')")
        }
        switch config.string("window_type", default: "fixed") ?? "fixed" {
        case "fixed": windowType = .fixed
        case "sliding": windowType = .sliding
        case let other: config.report("window_type", "expected one of: fixed, sliding (got '\(other)')")
        }
        faultTolerant = config.bool("fault_tolerant", default: true)
        hideClientHeaders = config.bool("hide_client_headers", default: false)
        errorCode = config.number("error_code", default: 429, greaterThan: 0) ?? 429
        errorMessage = config.string("error_message", default: errorMessage) ?? errorMessage
        // Kong's sync_rate only means something with redis; -1 (its default) is the only value it accepts otherwise.
        if let syncRate = config.number("sync_rate"), syncRate != -1 {
            config.report("sync_rate", "sync_rate can only be used with the redis policy")
        }
        // Kong writes its redis settings (defaults included) into every export; without the redis policy they are inert.
        if let redis = config.object("redis") { redis.informational(contentsOf: redis.keys) }
        for key in config.keys where key.hasPrefix("redis_") { config.informational(key) }
    }
}

extension ObjectReader {
    func informational(contentsOf keys: [String]) { for key in keys { informational(key) } }
}
