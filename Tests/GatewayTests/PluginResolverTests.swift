import Gateway
import Testing

@Suite("Plugin precedence")
struct PluginResolverTests {
    /// One rate-limiting instance per scope; its `minute` limit says which scope it was on.
    let configuration: GatewayConfiguration

    init() throws {
        configuration = try GatewayConfiguration.load(
            yaml: """
                _format_version: "3.0"
                services:
                - {name: s, host: s.internal, routes: [{name: r, paths: [/]}], plugins: [{name: rate-limiting, config: {minute: 7}}]}
                - {name: other, host: o.internal, routes: [{name: bare, paths: [/bare]}]}
                consumers:
                - {username: c}
                - {username: nobody}
                plugins:
                - {name: rate-limiting, config: {minute: 8}}
                - {name: rate-limiting, consumer: c, route: r, service: s, config: {minute: 1}}
                - {name: rate-limiting, consumer: c, route: r, config: {minute: 2}}
                - {name: rate-limiting, consumer: c, service: s, config: {minute: 3}}
                - {name: rate-limiting, route: r, service: s, config: {minute: 4}}
                - {name: rate-limiting, consumer: c, config: {minute: 5}}
                - {name: rate-limiting, route: r, config: {minute: 6}}
                - {name: prometheus}
                - {name: key-auth, route: r}
                - {name: cors, route: r, enabled: false}
                """
        )
    }

    func limit(route: String?, service: String?, consumer: String?, without removed: Set<Int> = []) -> Double? {
        var trimmed = configuration
        trimmed.plugins = configuration.plugins.enumerated().filter { !removed.contains(Int($0.offset)) }.map(\.element)
        let resolver = PluginResolver(trimmed)
        let plugin = resolver.plugin(
            named: "rate-limiting",
            route: route.flatMap(configuration.route(named:)),
            service: service.flatMap(configuration.service(named:)),
            consumer: consumer.flatMap(configuration.consumer(named:))
        )
        guard case .rateLimiting(let config)? = plugin?.configuration else { return nil }
        return config.limits[.minute]
    }

    /// Plugins in file order: 0 service(7), 1 global(8), 2 c+r+s(1), 3 c+r(2), 4 c+s(3), 5 r+s(4), 6 c(5), 7 r(6).
    @Test func kongsOrderFromMostToLeastSpecific() {
        #expect(limit(route: "r", service: "s", consumer: "c") == 1)
        #expect(limit(route: "r", service: "s", consumer: "c", without: [2]) == 2)
        #expect(limit(route: "r", service: "s", consumer: "c", without: [2, 3]) == 3)
        #expect(limit(route: "r", service: "s", consumer: "c", without: [2, 3, 4]) == 4)
        #expect(limit(route: "r", service: "s", consumer: "c", without: [2, 3, 4, 5]) == 5)
        #expect(limit(route: "r", service: "s", consumer: "c", without: [2, 3, 4, 5, 6]) == 6)
        #expect(limit(route: "r", service: "s", consumer: "c", without: [2, 3, 4, 5, 6, 7]) == 7)
        #expect(limit(route: "r", service: "s", consumer: "c", without: [0, 2, 3, 4, 5, 6, 7]) == 8)
    }

    @Test func withoutAConsumerConsumerScopedInstancesDoNotApply() {
        #expect(limit(route: "r", service: "s", consumer: nil) == 4)
        #expect(limit(route: "r", service: "s", consumer: "nobody") == 4)
        #expect(limit(route: "bare", service: "other", consumer: nil) == 8)
    }

    @Test func resolvedPluginsComeInKongsExecutionOrderAndDisabledOnesAreLeftOut() throws {
        let resolver = PluginResolver(configuration)
        let plugins = resolver.plugins(route: configuration.route(named: "r"), service: configuration.service(named: "s"), consumer: nil)
        #expect(plugins.map(\.name) == ["key-auth", "rate-limiting", "prometheus"])
    }
}
