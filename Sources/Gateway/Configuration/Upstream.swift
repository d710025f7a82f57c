/// Kong's `upstreams`: a named, load-balanced set of targets a service can point at by using the name as its host.
public struct Upstream: Hashable, Sendable {
    public enum Algorithm: String, Hashable, Sendable {
        case roundRobin = "round-robin"
        case consistentHashing = "consistent-hashing"
        case leastConnections = "least-connections"
    }

    /// What consistent hashing hashes (Kong's `hash_on` / `hash_fallback` with their companion fields).
    public enum HashInput: Hashable, Sendable {
        case none
        case consumer
        case ip
        case header(String)
        case cookie(name: String, path: String)
        case path
        case queryArgument(String)
        case uriCapture(String)
    }

    public var id: String?
    public var name: String
    public var algorithm: Algorithm
    public var hashOn: HashInput
    public var hashFallback: HashInput
    /// Kong's `slots` (10–65536, default 10000): the size of the consistent-hashing ring.
    public var slots: Int
    public var healthchecks: Healthchecks
    /// The Host header sent to targets instead of the target's own host.
    public var hostHeader: String?
    public var tags: [String]
    public var targets: [Target]

    public init(
        id: String? = nil,
        name: String,
        algorithm: Algorithm = .roundRobin,
        hashOn: HashInput = .none,
        hashFallback: HashInput = .none,
        slots: Int = 10_000,
        healthchecks: Healthchecks = Healthchecks(),
        hostHeader: String? = nil,
        tags: [String] = [],
        targets: [Target] = []
    ) {
        self.id = id
        self.name = name
        self.algorithm = algorithm
        self.hashOn = hashOn
        self.hashFallback = hashFallback
        self.slots = slots
        self.healthchecks = healthchecks
        self.hostHeader = hostHeader
        self.tags = tags
        self.targets = targets
    }
}

/// Kong's `targets`: `host:port` (port 8000 when omitted, as in Kong) with a weight (0 disables it).
public struct Target: Hashable, Sendable {
    public var id: String?
    public var host: String
    public var port: Int
    public var weight: Int
    public var tags: [String]

    public init(id: String? = nil, host: String, port: Int = 8000, weight: Int = 100, tags: [String] = []) {
        self.id = id
        self.host = host
        self.port = port
        self.weight = weight
        self.tags = tags
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Kong's `upstreams[].healthchecks`, field for field with Kong's defaults (everything off until a threshold or an
/// interval is set).
public struct Healthchecks: Hashable, Sendable {
    public enum CheckType: String, Hashable, Sendable { case tcp, http, https }

    public struct Active: Hashable, Sendable {
        public var type: CheckType = .http
        /// Seconds a probe may take.
        public var timeout: Double = 1
        public var concurrency: Int = 10
        public var httpPath: String = "/"
        public var httpsSNI: String?
        public var httpsVerifyCertificate: Bool = true
        public var headers: [String: [String]] = [:]
        public var healthy = Healthy(interval: 0, httpStatuses: [200, 302], successes: 0)
        public var unhealthy = Unhealthy(
            interval: 0,
            httpStatuses: [429, 404, 500, 501, 502, 503, 504, 505],
            tcpFailures: 0,
            timeouts: 0,
            httpFailures: 0
        )

        public init() {}
    }

    public struct Passive: Hashable, Sendable {
        public var type: CheckType = .http
        public var healthy = Healthy(
            interval: 0,
            httpStatuses: [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308],
            successes: 0
        )
        public var unhealthy = Unhealthy(interval: 0, httpStatuses: [429, 500, 503], tcpFailures: 0, timeouts: 0, httpFailures: 0)

        public init() {}
    }

    /// When a target counts as healthy again. `interval` (seconds between active probes of healthy targets) is
    /// active-only; 0 turns probing off.
    public struct Healthy: Hashable, Sendable {
        public var interval: Double
        public var httpStatuses: [Int]
        public var successes: Int

        public init(interval: Double, httpStatuses: [Int], successes: Int) {
            self.interval = interval
            self.httpStatuses = httpStatuses
            self.successes = successes
        }
    }

    /// When a target counts as unhealthy; each counter 0 means "never by this measure".
    public struct Unhealthy: Hashable, Sendable {
        public var interval: Double
        public var httpStatuses: [Int]
        public var tcpFailures: Int
        public var timeouts: Int
        public var httpFailures: Int

        public init(interval: Double, httpStatuses: [Int], tcpFailures: Int, timeouts: Int, httpFailures: Int) {
            self.interval = interval
            self.httpStatuses = httpStatuses
            self.tcpFailures = tcpFailures
            self.timeouts = timeouts
            self.httpFailures = httpFailures
        }
    }

    public var active = Active()
    public var passive = Passive()
    /// Kong's `threshold`: the percentage of healthy weight below which the whole upstream counts as unhealthy.
    public var threshold: Double = 0

    public init() {}
}
