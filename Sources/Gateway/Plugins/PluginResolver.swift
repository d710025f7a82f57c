/// Picks the plugin configurations that apply to a request, with Kong's precedence: for each plugin name the most
/// specific instance wins — consumer+route+service > consumer+route > consumer+service > route+service > consumer >
/// route > service > global. Disabled instances, and instances whose `protocols` list neither http nor https, are
/// left out before choosing (as Kong leaves them out of its plugin map).
///
/// ```
/// let resolver = PluginResolver(configuration)
/// let match = router.match(request)!
/// for plugin in resolver.plugins(route: match.route, service: match.service, consumer: nil) {
///     plugin.configuration   // .keyAuth(…), .rateLimiting(…) — in Kong's execution order
/// }
/// ```
public struct PluginResolver: Sendable {
    private struct Scope: Hashable {
        var route: Int?
        var service: Int?
        var consumer: Int?
    }

    /// Per plugin name, the instances by the exact scope they were configured on.
    private let instances: [String: [Scope: PluginInstance]]
    /// Plugin names in Kong's execution order.
    private let names: [String]

    public init(_ configuration: GatewayConfiguration) {
        var instances: [String: [Scope: PluginInstance]] = [:]
        for plugin in configuration.plugins where plugin.enabled && !plugin.protocols.isDisjoint(with: ["http", "https"]) {
            let scope = Scope(route: plugin.route?.position, service: plugin.service?.position, consumer: plugin.consumer?.position)
            instances[plugin.name, default: [:]][scope] = plugin
        }
        self.instances = instances
        self.names = instances.keys.sorted { lhs, rhs in
            let left = instances[lhs]!.values.first!.configuration.executionPriority
            let right = instances[rhs]!.values.first!.configuration.executionPriority
            return left != right ? left > right : lhs < rhs
        }
    }

    /// The instance of each plugin that applies, in Kong's execution order (highest `PRIORITY` first).
    public func plugins(route: EntityIndex<Route>?, service: EntityIndex<Service>?, consumer: EntityIndex<Consumer>?) -> [PluginInstance] {
        names.compactMap { name in plugin(named: name, route: route, service: service, consumer: consumer) }
    }

    /// The instance of plugin `name` that applies, or nil when none does.
    public func plugin(
        named name: String,
        route: EntityIndex<Route>?,
        service: EntityIndex<Service>?,
        consumer: EntityIndex<Consumer>?
    ) -> PluginInstance? {
        guard let byScope = instances[name] else { return nil }
        let r = route?.position
        let s = service?.position
        let c = consumer?.position
        // Kong's lookup order; a combination is only tried when all its parts are known.
        let candidates: [Scope?] = [
            r != nil && s != nil && c != nil ? Scope(route: r, service: s, consumer: c) : nil,
            r != nil && c != nil ? Scope(route: r, service: nil, consumer: c) : nil,
            s != nil && c != nil ? Scope(route: nil, service: s, consumer: c) : nil,
            r != nil && s != nil ? Scope(route: r, service: s, consumer: nil) : nil,
            c != nil ? Scope(route: nil, service: nil, consumer: c) : nil,
            r != nil ? Scope(route: r, service: nil, consumer: nil) : nil,
            s != nil ? Scope(route: nil, service: s, consumer: nil) : nil,
            Scope(route: nil, service: nil, consumer: nil),
        ]
        for case let scope? in candidates {
            if let plugin = byScope[scope] { return plugin }
        }
        return nil
    }
}
