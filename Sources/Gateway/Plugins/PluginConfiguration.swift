/// A supported plugin's configuration, typed, with Kong's defaults for every field the file leaves out.
public enum PluginConfiguration: Hashable, Sendable {
    case keyAuth(KeyAuthConfiguration)
    case jwt(JWTConfiguration)
    case basicAuth(BasicAuthConfiguration)
    case acl(ACLConfiguration)
    case ipRestriction(IPRestrictionConfiguration)
    case rateLimiting(RateLimitingConfiguration)
    case requestSizeLimiting(RequestSizeLimitingConfiguration)
    case requestTransformer(RequestTransformerConfiguration)
    case responseTransformer(ResponseTransformerConfiguration)
    case cors(CORSConfiguration)
    case correlationID(CorrelationIDConfiguration)
    case proxyCache(ProxyCacheConfiguration)
    case prometheus(PrometheusConfiguration)
    case fileLog(FileLogConfiguration)

    /// Kong's names of the plugins this gateway reads, in Kong's execution order (highest priority first).
    public static let supportedNames = [
        "correlation-id", "cors", "jwt", "key-auth", "basic-auth", "ip-restriction", "request-size-limiting", "acl",
        "rate-limiting", "request-transformer", "response-transformer", "proxy-cache", "prometheus", "file-log",
    ]

    public var pluginName: String {
        switch self {
        case .keyAuth: "key-auth"
        case .jwt: "jwt"
        case .basicAuth: "basic-auth"
        case .acl: "acl"
        case .ipRestriction: "ip-restriction"
        case .rateLimiting: "rate-limiting"
        case .requestSizeLimiting: "request-size-limiting"
        case .requestTransformer: "request-transformer"
        case .responseTransformer: "response-transformer"
        case .cors: "cors"
        case .correlationID: "correlation-id"
        case .proxyCache: "proxy-cache"
        case .prometheus: "prometheus"
        case .fileLog: "file-log"
        }
    }

    /// Kong's `PRIORITY` for the plugin: plugins run from the highest to the lowest.
    public var executionPriority: Int {
        switch self {
        case .correlationID: 100_001
        case .cors: 2000
        case .jwt: 1450
        case .keyAuth: 1250
        case .basicAuth: 1100
        case .ipRestriction: 990
        case .requestSizeLimiting: 951
        case .acl: 950
        case .rateLimiting: 910
        case .requestTransformer: 801
        case .responseTransformer: 800
        case .proxyCache: 100
        case .prometheus: 13
        case .fileLog: 9
        }
    }

    /// Kong's schemas forbid a `consumer` on the plugins that establish or check who the consumer is.
    static func allowsConsumerScope(_ name: String) -> Bool {
        !["key-auth", "jwt", "basic-auth", "acl", "cors"].contains(name)
    }

    /// The protocols a plugin runs on when its `protocols` field is left out (Kong's per-plugin default).
    static func defaultProtocols(_ name: String) -> [String] {
        switch name {
        case "ip-restriction": ["http", "https", "tcp", "tls", "grpc", "grpcs"]
        case "request-transformer", "proxy-cache", "prometheus": ["grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp"]
        default: ["grpc", "grpcs", "http", "https"]
        }
    }

    /// The protocols a plugin may list (Kong: `protocols_http` for most, every protocol for a few).
    static func allowedProtocols(_ name: String) -> Set<String> {
        let http: Set<String> = ["grpc", "grpcs", "http", "https"]
        switch name {
        case "ip-restriction", "request-transformer", "proxy-cache", "prometheus": return http.union(["tcp", "tls", "tls_passthrough", "udp"])
        default: return http
        }
    }

    /// Reads `config` for the plugin called `name`; nil (with the reason reported) for a plugin this gateway does
    /// not have.
    static func read(name: String, config: ObjectReader) -> PluginConfiguration? {
        let result: PluginConfiguration?
        switch name {
        case "key-auth": result = .keyAuth(KeyAuthConfiguration(reading: config))
        case "jwt": result = .jwt(JWTConfiguration(reading: config))
        case "basic-auth": result = .basicAuth(BasicAuthConfiguration(reading: config))
        case "acl": result = .acl(ACLConfiguration(reading: config))
        case "ip-restriction": result = .ipRestriction(IPRestrictionConfiguration(reading: config))
        case "rate-limiting": result = .rateLimiting(RateLimitingConfiguration(reading: config))
        case "request-size-limiting": result = .requestSizeLimiting(RequestSizeLimitingConfiguration(reading: config))
        case "request-transformer": result = .requestTransformer(RequestTransformerConfiguration(reading: config))
        case "response-transformer": result = .responseTransformer(ResponseTransformerConfiguration(reading: config))
        case "cors": result = .cors(CORSConfiguration(reading: config))
        case "correlation-id": result = .correlationID(CorrelationIDConfiguration(reading: config))
        case "proxy-cache": result = .proxyCache(ProxyCacheConfiguration(reading: config))
        case "prometheus": result = .prometheus(PrometheusConfiguration(reading: config))
        case "file-log": result = .fileLog(FileLogConfiguration(reading: config))
        default: return nil
        }
        config.finish()
        return result
    }
}
