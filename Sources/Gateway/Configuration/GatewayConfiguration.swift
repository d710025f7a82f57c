/// A validated gateway configuration: Kong's entities with every reference resolved and every default applied.
///
/// Load one with ``load(yaml:source:)`` or ``load(contentsOf:)``; the router and the plugin resolver are compiled
/// from it:
///
/// ```
/// let configuration = try GatewayConfiguration.load(contentsOf: URL(filePath: "kong.yaml"))
/// let router = GatewayRouter(configuration)
/// let plugins = PluginResolver(configuration)
/// ```
public struct GatewayConfiguration: Sendable {
    /// Services in file order.
    public var services: [Service]
    /// Routes in file order: the routes of each service where they are nested, then the top-level ones. The order
    /// breaks routing ties (earlier wins), as Kong's `created_at` does for routes created one after another.
    public var routes: [Route]
    public var consumers: [Consumer]
    /// Plugins from everywhere in the file (global, nested and top-level), in file order.
    public var plugins: [PluginInstance]
    public var upstreams: [Upstream]

    public init(
        services: [Service] = [],
        routes: [Route] = [],
        consumers: [Consumer] = [],
        plugins: [PluginInstance] = [],
        upstreams: [Upstream] = []
    ) {
        self.services = services
        self.routes = routes
        self.consumers = consumers
        self.plugins = plugins
        self.upstreams = upstreams
    }

    public subscript(service: EntityIndex<Service>) -> Service { services[service.position] }
    public subscript(route: EntityIndex<Route>) -> Route { routes[route.position] }
    public subscript(consumer: EntityIndex<Consumer>) -> Consumer { consumers[consumer.position] }
    public subscript(upstream: EntityIndex<Upstream>) -> Upstream { upstreams[upstream.position] }

    public func service(named name: String) -> EntityIndex<Service>? {
        services.firstIndex { $0.name == name || $0.id == name }.map(EntityIndex.init)
    }

    public func route(named name: String) -> EntityIndex<Route>? {
        routes.firstIndex { $0.name == name || $0.id == name }.map(EntityIndex.init)
    }

    public func consumer(named name: String) -> EntityIndex<Consumer>? {
        consumers.firstIndex { $0.username == name || $0.id == name }.map(EntityIndex.init)
    }
}

/// The position of an entity in its ``GatewayConfiguration`` array: how entities refer to each other once loaded.
public struct EntityIndex<Entity>: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let position: Int

    public init(_ position: Int) { self.position = position }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.position < rhs.position }

    public var description: String { "\(Entity.self)[\(position)]" }
}

/// A credential or key held in memory. It prints as `<redacted>` (also through `dump` and string interpolation), so a
/// configuration can be logged without leaking it; read ``value`` where it is needed.
public struct Secret: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// Kong's `services`: where a route's traffic goes.
public struct Service: Hashable, Sendable {
    public enum UpstreamScheme: String, Hashable, Sendable { case http, https }

    public var id: String?
    public var name: String?
    /// Kong's `protocol`.
    public var scheme: UpstreamScheme
    /// A host name or address, or the name of an ``Upstream`` (then ``upstream`` is set and its targets are used).
    public var host: String
    public var port: Int
    /// The path prefix upstream requests get; nil means `/`.
    public var path: String?
    /// Kong's `retries`: attempts after the first when proxying fails (default 5).
    public var retries: Int
    public var connectTimeout: Duration
    public var writeTimeout: Duration
    public var readTimeout: Duration
    /// A disabled service's routes are not routed (as in Kong).
    public var enabled: Bool
    public var tags: [String]
    /// The upstream whose name is ``host``, if there is one.
    public var upstream: EntityIndex<Upstream>?

    public init(
        id: String? = nil,
        name: String? = nil,
        scheme: UpstreamScheme = .http,
        host: String,
        port: Int = 80,
        path: String? = nil,
        retries: Int = 5,
        connectTimeout: Duration = .milliseconds(60_000),
        writeTimeout: Duration = .milliseconds(60_000),
        readTimeout: Duration = .milliseconds(60_000),
        enabled: Bool = true,
        tags: [String] = [],
        upstream: EntityIndex<Upstream>? = nil
    ) {
        self.id = id
        self.name = name
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.retries = retries
        self.connectTimeout = connectTimeout
        self.writeTimeout = writeTimeout
        self.readTimeout = readTimeout
        self.enabled = enabled
        self.tags = tags
        self.upstream = upstream
    }
}

/// Kong's `routes`: which requests go to which service.
public struct Route: Hashable, Sendable {
    public enum RequestProtocol: String, Hashable, Sendable, CaseIterable { case http, https }

    public var id: String?
    public var name: String?
    /// The protocols the route accepts (default both). A request on another one gets Kong's HTTPS redirect
    /// (``httpsRedirectStatusCode``) once proxying exists; matching itself ignores the protocol, as Kong's does.
    public var protocols: Set<RequestProtocol>
    /// Upper-case methods; empty matches any.
    public var methods: [String]
    /// Host names, lower-cased; one `*` as the leftmost or rightmost label (`*.example.com`, `example.*`), an
    /// optional `:port`. Empty matches any host.
    public var hosts: [String]
    /// Prefixes (`/orders`) and regular expressions (`~/orders/\d+$`), anchored at the start of the path.
    public var paths: [String]
    /// Lower-cased header names to the values (any of which matches, case-insensitively; `~*` starts a regex).
    public var headers: [String: [String]]
    public var stripPath: Bool
    public var preserveHost: Bool
    public var regexPriority: Int
    public var httpsRedirectStatusCode: Int
    /// Kong's buffering switches, kept for export; the gateway will stream bodies whatever they say.
    public var requestBuffering: Bool
    public var responseBuffering: Bool
    public var tags: [String]
    /// nil for a route without a service (Kong allows it; such a route answers instead of proxying).
    public var service: EntityIndex<Service>?

    public init(
        id: String? = nil,
        name: String? = nil,
        protocols: Set<RequestProtocol> = [.http, .https],
        methods: [String] = [],
        hosts: [String] = [],
        paths: [String] = [],
        headers: [String: [String]] = [:],
        stripPath: Bool = true,
        preserveHost: Bool = false,
        regexPriority: Int = 0,
        httpsRedirectStatusCode: Int = 426,
        requestBuffering: Bool = true,
        responseBuffering: Bool = true,
        tags: [String] = [],
        service: EntityIndex<Service>? = nil
    ) {
        self.id = id
        self.name = name
        self.protocols = protocols
        self.methods = methods
        self.hosts = hosts
        self.paths = paths
        self.headers = headers
        self.stripPath = stripPath
        self.preserveHost = preserveHost
        self.regexPriority = regexPriority
        self.httpsRedirectStatusCode = httpsRedirectStatusCode
        self.requestBuffering = requestBuffering
        self.responseBuffering = responseBuffering
        self.tags = tags
        self.service = service
    }
}

/// Kong's `consumers` with their credentials (from the consumer or from top-level credential lists).
public struct Consumer: Hashable, Sendable {
    public var id: String?
    public var username: String?
    public var customID: String?
    public var tags: [String]
    public var keyAuthCredentials: [KeyAuthCredential]
    public var jwtSecrets: [JWTSecret]
    public var basicAuthCredentials: [BasicAuthCredential]
    /// The consumer's ACL groups.
    public var acls: [ACLGroup]

    public init(
        id: String? = nil,
        username: String? = nil,
        customID: String? = nil,
        tags: [String] = [],
        keyAuthCredentials: [KeyAuthCredential] = [],
        jwtSecrets: [JWTSecret] = [],
        basicAuthCredentials: [BasicAuthCredential] = [],
        acls: [ACLGroup] = []
    ) {
        self.id = id
        self.username = username
        self.customID = customID
        self.tags = tags
        self.keyAuthCredentials = keyAuthCredentials
        self.jwtSecrets = jwtSecrets
        self.basicAuthCredentials = basicAuthCredentials
        self.acls = acls
    }
}

/// Kong's `keyauth_credentials`.
public struct KeyAuthCredential: Hashable, Sendable {
    public var id: String?
    public var key: Secret
    public var tags: [String]

    public init(id: String? = nil, key: Secret, tags: [String] = []) {
        self.id = id
        self.key = key
        self.tags = tags
    }
}

/// Kong's `jwt_secrets`.
public struct JWTSecret: Hashable, Sendable {
    /// The algorithms Kong's schema lists, every one of which this gateway verifies.
    public enum Algorithm: String, Hashable, Sendable, CaseIterable {
        case hs256 = "HS256"
        case hs384 = "HS384"
        case hs512 = "HS512"
        case rs256 = "RS256"
        case rs384 = "RS384"
        case rs512 = "RS512"
        case es256 = "ES256"
        case es384 = "ES384"
        case es512 = "ES512"
        case ps256 = "PS256"
        case ps384 = "PS384"
        case ps512 = "PS512"
        case edDSA = "EdDSA"

        public var isHMAC: Bool { rawValue.hasPrefix("HS") }
    }

    public var id: String?
    /// The value of the claim (Kong's `key_claim_name`, `iss` by default) that names this secret.
    public var key: String
    /// The HMAC secret (HS algorithms).
    public var secret: Secret?
    /// The PEM public key (RS, PS, ES and EdDSA algorithms).
    public var rsaPublicKey: String?
    /// Interchange's, in place of `rsa_public_key`: where the issuer publishes its keys (a JWK Set, RFC 7517); the
    /// token's `kid` picks one of them.
    public var jwksURL: String?
    public var algorithm: Algorithm
    public var tags: [String]

    public init(
        id: String? = nil,
        key: String,
        secret: Secret? = nil,
        rsaPublicKey: String? = nil,
        jwksURL: String? = nil,
        algorithm: Algorithm = .hs256,
        tags: [String] = []
    ) {
        self.id = id
        self.key = key
        self.secret = secret
        self.rsaPublicKey = rsaPublicKey
        self.jwksURL = jwksURL
        self.algorithm = algorithm
        self.tags = tags
    }
}

/// Kong's `basicauth_credentials`. The password is held as written (Kong stores a salted SHA-1 of it); it is compared
/// in constant time when basic-auth is built.
public struct BasicAuthCredential: Hashable, Sendable {
    public var id: String?
    public var username: String
    public var password: Secret
    public var tags: [String]

    public init(id: String? = nil, username: String, password: Secret, tags: [String] = []) {
        self.id = id
        self.username = username
        self.password = password
        self.tags = tags
    }
}

/// Kong's `acls`: one group membership of a consumer.
public struct ACLGroup: Hashable, Sendable {
    public var id: String?
    public var group: String
    public var tags: [String]

    public init(id: String? = nil, group: String, tags: [String] = []) {
        self.id = id
        self.group = group
        self.tags = tags
    }
}

/// A plugin instance: one configured plugin and where it applies.
public struct PluginInstance: Hashable, Sendable {
    public var id: String?
    public var instanceName: String?
    public var configuration: PluginConfiguration
    /// What the plugin is attached to; all nil means global.
    public var route: EntityIndex<Route>?
    public var service: EntityIndex<Service>?
    public var consumer: EntityIndex<Consumer>?
    /// The request protocols it runs on (Kong's `protocols`; `grpc`/`grpcs` entries are kept but never match here).
    public var protocols: Set<String>
    public var enabled: Bool
    public var tags: [String]

    public var name: String { configuration.pluginName }

    public init(
        id: String? = nil,
        instanceName: String? = nil,
        configuration: PluginConfiguration,
        route: EntityIndex<Route>? = nil,
        service: EntityIndex<Service>? = nil,
        consumer: EntityIndex<Consumer>? = nil,
        protocols: Set<String> = ["grpc", "grpcs", "http", "https"],
        enabled: Bool = true,
        tags: [String] = []
    ) {
        self.id = id
        self.instanceName = instanceName
        self.configuration = configuration
        self.route = route
        self.service = service
        self.consumer = consumer
        self.protocols = protocols
        self.enabled = enabled
        self.tags = tags
    }
}
