import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import NIOCore
import Resilience

/// The gateway's read-only admin API, under `/_gateway/` on its own port (loopback, as Kong's admin API by
/// default): the configuration in force and the last reload (`status`), what is configured (`config`: entities by
/// name, never a credential), each target's circuit breaker (`targets`), what has been served (`analytics`), and a
/// page showing them (`/_gateway/`). Its contract is `/_gateway/openapi.yaml` (openapi/gateway-admin.yaml). Every
/// endpoint answers GET only.
public struct GatewayAdmin: HTTPResponderBuilder, Sendable {
    public static let mount = "/_gateway"
    let live: LiveGateway

    public init(_ live: LiveGateway) { self.live = live }

    public func buildResponder() -> CallbackResponder<BasicRequestContext> {
        CallbackResponder { request, _ in self.respond(to: request) }
    }

    func respond(to request: Request) -> Response {
        let path = request.uri.path
        guard let handler = Self.endpoints[path] else {
            return GatewayProblem.response(404, "not-found", "Not Found", "no admin endpoint at \(path); see \(Self.mount)/openapi.yaml")
        }
        guard request.method == .get else {
            return GatewayProblem.response(
                405,
                "method-not-allowed",
                "Method Not Allowed",
                "the admin API is read-only: \(path) answers GET",
                headers: [.allow: "GET"]
            )
        }
        switch handler {
        case .status: return Self.json(live.status)
        case .config: return Self.json(ConfigSummary(live.proxy.configuration))
        case .targets: return Self.json(targets(live.proxy))
        case .analytics: return Self.json(live.proxy.analytics.snapshot)
        case .metrics:
            let proxy = live.proxy
            let health = proxy.configuration.plugins.contains { plugin in
                if case .prometheus(let configuration) = plugin.configuration { plugin.enabled && configuration.upstreamHealthMetrics } else { false }
            }
            let text = proxy.metrics.render(targetHealth: health ? targetHealth(proxy) : nil)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text))
            )
        case .page:
            return Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: Self.pageSecurityPolicy],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: Self.page))
            )
        case .openAPI:
            return Response(
                status: .ok,
                headers: [.contentType: "application/yaml"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: Self.document))
            )
        }
    }

    private enum Endpoint { case status, config, targets, analytics, metrics, openAPI, page }

    /// The page loads nothing from elsewhere: its script and style are inline, its data from this API.
    static let pageSecurityPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"

    /// This API's contract, openapi/gateway-admin.yaml, as a resource.
    static let document = resource("openapi", "yaml")
    /// The admin page (admin.html): status, analytics and targets, refreshed every 2 s.
    static let page = resource("admin", "html")

    private static func resource(_ name: String, _ type: String) -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: type), let data = try? Data(contentsOf: url) else {
            preconditionFailure("the GatewayProxy bundle lacks \(name).\(type)")
        }
        return data
    }

    private static let endpoints: [String: Endpoint] = [
        "\(mount)/status": .status, "\(mount)/config": .config, "\(mount)/targets": .targets, "\(mount)/analytics": .analytics,
        "\(mount)/openapi.yaml": .openAPI, "\(mount)/": .page,
        // Where Kong's admin API serves the prometheus plugin's metrics.
        "/metrics": .metrics,
    ]

    struct TargetHealth: Codable, Equatable {
        let service: String
        let target: String
        /// The breaker's state: `closed`, `open` or `half-open`.
        let breaker: String
        /// The active health checks' verdict: `healthy`, `unhealthy`, or `healthchecks_off`.
        let active: String
    }

    /// Each target by its upstream's name (the service's host when it has no upstream), for Kong's health gauge: a
    /// target its active checks find unhealthy counts as an open breaker.
    private func targetHealth(_ proxy: GatewayProxy) -> [(upstream: String, target: String, state: CircuitBreaker.State)] {
        proxy.configuration.services.enumerated().flatMap { position, service in
            let name = service.name ?? service.id ?? "services[\(position)]"
            let upstream = service.upstream.map { proxy.configuration[$0].name } ?? service.host
            let active = proxy.activeHealth(service: name)
            return proxy.targetStates(service: name).sorted { $0.key < $1.key }.map { address, state in
                (upstream, address, active[address] == "unhealthy" ? .open : state)
            }
        }
    }

    private func targets(_ proxy: GatewayProxy) -> [TargetHealth] {
        proxy.configuration.services.enumerated().flatMap { position, service in
            let name = service.name ?? service.id ?? "services[\(position)]"
            let active = proxy.activeHealth(service: name)
            return proxy.targetStates(service: name).sorted { $0.key < $1.key }.map { address, state in
                TargetHealth(service: name, target: address, breaker: state.rawValue, active: active[address] ?? "healthchecks_off")
            }
        }
    }

    private static func json(_ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// What `/_gateway/config` shows: every entity by name and shape, and no secret (credentials are counted).
struct ConfigSummary: Codable, Equatable {
    struct ServiceSummary: Codable, Equatable {
        let name: String?
        let url: String
        let enabled: Bool
        let retries: Int
    }

    struct RouteSummary: Codable, Equatable {
        let name: String?
        let service: String?
        let paths: [String]
        let hosts: [String]
        let methods: [String]
    }

    struct PluginSummary: Codable, Equatable {
        let name: String
        let enabled: Bool
        /// `global`, or the route, service or consumer it is scoped to.
        let scope: String
    }

    struct ConsumerSummary: Codable, Equatable {
        let username: String?
        let credentials: Int
        let groups: [String]
    }

    let services: [ServiceSummary]
    let routes: [RouteSummary]
    let plugins: [PluginSummary]
    let consumers: [ConsumerSummary]

    init(_ configuration: GatewayConfiguration) {
        services = configuration.services.map { service in
            let port = service.port == (service.scheme == .https ? 443 : 80) ? "" : ":\(service.port)"
            return ServiceSummary(
                name: service.name,
                url: "\(service.scheme.rawValue)://\(service.host)\(port)\(service.path ?? "")",
                enabled: service.enabled,
                retries: service.retries
            )
        }
        routes = configuration.routes.map { route in
            RouteSummary(
                name: route.name,
                service: route.service.map { configuration[$0].name ?? configuration[$0].host },
                paths: route.paths,
                hosts: route.hosts,
                methods: route.methods
            )
        }
        plugins = configuration.plugins.map { plugin in
            let scope: String
            if let route = plugin.route {
                scope = "route \(configuration[route].name ?? "#\(route.position)")"
            } else if let service = plugin.service {
                scope = "service \(configuration[service].name ?? "#\(service.position)")"
            } else if let consumer = plugin.consumer {
                scope = "consumer \(configuration[consumer].username ?? "#\(consumer.position)")"
            } else {
                scope = "global"
            }
            return PluginSummary(name: plugin.name, enabled: plugin.enabled, scope: scope)
        }
        consumers = configuration.consumers.map { consumer in
            ConsumerSummary(
                username: consumer.username,
                credentials: consumer.keyAuthCredentials.count + consumer.jwtSecrets.count + consumer.basicAuthCredentials.count,
                groups: consumer.acls.map(\.group)
            )
        }
    }
}
