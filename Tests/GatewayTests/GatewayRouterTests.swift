import Gateway
import Testing

@Suite("Gateway router (Kong's matching rules)")
struct GatewayRouterTests {
    /// One service per test file; `routes` are YAML list items under `routes:` (each gets `service: s` unless it says otherwise).
    func router(_ routes: String, servicePath: String? = nil) throws -> (GatewayRouter, GatewayConfiguration) {
        let path = servicePath.map { ", path: \($0)" } ?? ""
        let yaml = """
            _format_version: "3.0"
            services:
            - {name: s, host: upstream.internal\(path)}
            - {name: disabled, host: disabled.internal, enabled: false}
            routes:
            \(routes)
            """
        let configuration = try GatewayConfiguration.load(yaml: yaml)
        return (GatewayRouter(configuration), configuration)
    }

    func routeName(
        _ router: (GatewayRouter, GatewayConfiguration),
        _ target: String,
        method: String = "GET",
        host: String? = "api.example.com",
        headers: [(String, String)] = []
    ) -> String? {
        router.0.match(RouteRequest(method: method, host: host, target: target, headers: headers.map { (name: $0.0, value: $0.1) })).map {
            router.1[$0.route].name ?? "?"
        }
    }

    @Test func theLongestPrefixWins() throws {
        let r = try router(
            """
            - {name: root, service: s, paths: [/]}
            - {name: orders, service: s, paths: [/orders]}
            - {name: order-items, service: s, paths: [/orders/items]}
            """
        )
        #expect(routeName(r, "/orders/items/3") == "order-items")
        #expect(routeName(r, "/orders/3") == "orders")
        #expect(routeName(r, "/ordersx") == "orders")  // Kong's prefixes are character prefixes, not segments
        #expect(routeName(r, "/other") == "root")
    }

    @Test func noRouteMatchesIsNil() throws {
        let r = try router("- {name: orders, service: s, paths: [/orders]}")
        #expect(routeName(r, "/users") == nil)
        #expect(routeName(r, "/Orders") == nil)  // paths are case-sensitive
    }

    @Test func regexPathsAreAnchoredAtTheStartAndBeatPrefixes() throws {
        let r = try router(
            """
            - {name: prefix, service: s, paths: [/orders/items]}
            - {name: regex, service: s, paths: ["~/orders/\\\\d+"]}
            """
        )
        #expect(routeName(r, "/orders/42/lines") == "regex")
        #expect(routeName(r, "/x/orders/42") == nil)
        #expect(routeName(r, "/orders/items") == "prefix")
    }

    /// Regexes are pre-filtered by their literal start; these have none that can be trusted, so they are always tried.
    @Test func regexesWithAlternationsOrQuantifiedStartsStillMatch() throws {
        let r = try router(
            """
            - {name: either, service: s, paths: ["~/alpha|/beta"]}
            - {name: optional-s, service: s, paths: ["~/items?/\\\\d+$"]}
            - {name: literal, service: s, paths: ["~/gamma/(?<id>[a-z]+)$"]}
            """
        )
        #expect(routeName(r, "/beta") == "either")
        #expect(routeName(r, "/item/7") == "optional-s")
        #expect(routeName(r, "/items/7") == "optional-s")
        #expect(routeName(r, "/gamma/abc") == "literal")
        #expect(routeName(r, "/gamma/123") == nil)
    }

    @Test func regexRoutesAreOrderedByRegexPriorityThenFileOrder() throws {
        let r = try router(
            """
            - {name: first, service: s, paths: ["~/a/.*"]}
            - {name: important, service: s, paths: ["~/a/b.*"], regex_priority: 5}
            - {name: second, service: s, paths: ["~/a/.*"]}
            """
        )
        #expect(routeName(r, "/a/b") == "important")
        #expect(routeName(r, "/a/c") == "first")
    }

    @Test func regexCapturesAndStripPathAfterTheMatch() throws {
        let r = try router("- {name: item, service: s, paths: [\"~/items/(?<id>\\\\d+)\"]}", servicePath: "/v2")
        let match = try #require(r.0.match(RouteRequest(method: "GET", host: nil, target: "/items/42/detail?x=1")))
        #expect(match.namedCaptures == ["id": "42"])
        #expect(match.captures == ["/items/42", "42"])
        #expect(match.upstreamPath == "/v2/detail" && match.query == "x=1")
    }

    @Test func exactHostsBeatWildcardsAndWildcardsMatchAnyDepthAndPort() throws {
        let r = try router(
            """
            - {name: wildcard, service: s, hosts: ["*.example.com"]}
            - {name: exact, service: s, hosts: [api.example.com]}
            - {name: suffix-wildcard, service: s, hosts: ["internal.*"]}
            - {name: port, service: s, hosts: ["admin.example.com:8443"]}
            """
        )
        #expect(routeName(r, "/", host: "API.example.com") == "exact")
        #expect(routeName(r, "/", host: "a.b.example.com:8080") == "wildcard")
        #expect(routeName(r, "/", host: "example.com") == nil)
        #expect(routeName(r, "/", host: "internal.corp") == "suffix-wildcard")
        #expect(routeName(r, "/", host: "admin.example.com:8443") == "port")
        #expect(routeName(r, "/", host: "admin.example.com:8080") == "wildcard")
        #expect(routeName(r, "/", host: "api.example.com:8443") == "exact")  // a route host without a port matches any port
        #expect(routeName(r, "/", host: nil) == nil)
    }

    @Test func hostlessRoutesCompeteInEveryHostsBucketAndMatchNoHost() throws {
        let r = try router(
            """
            - {name: wildcard-root, service: s, hosts: ["*.example.com"], paths: [/]}
            - {name: exact-root, service: s, hosts: [api.example.com], paths: [/]}
            - {name: prefix-root, service: s, hosts: ["internal.*"], paths: [/]}
            - {name: any-orders-post, service: s, paths: [/orders], methods: [POST]}
            - {name: any-health, service: s, paths: [/health/live]}
            """
        )
        // As many conditions (path + method against host + path): a plain host wins (Kong), a wildcard host does not —
        // then the longer prefix does. The host-less route competes in the wildcard and prefix buckets, and alone.
        #expect(routeName(r, "/orders", method: "POST", host: "api.example.com") == "exact-root")
        for host in ["shop.example.com", "internal.corp", "elsewhere.org"] {
            #expect(routeName(r, "/orders", method: "POST", host: host) == "any-orders-post", "\(host)")
        }
        #expect(routeName(r, "/health/live", host: "api.example.com") == "exact-root", "more conditions beat a longer prefix")
        #expect(routeName(r, "/health/live", host: "elsewhere.org") == "any-health")
        #expect(routeName(r, "/orders", host: "api.example.com") == "exact-root")
        #expect(routeName(r, "/orders", host: "shop.example.com") == "wildcard-root")
        #expect(routeName(r, "/orders", host: "internal.corp") == "prefix-root")
        #expect(routeName(r, "/orders", host: "elsewhere.org") == nil)
        let match = try #require(
            r.0.match(RouteRequest(method: "POST", host: "shop.example.com", target: "/orders", headers: []))
        )
        #expect(match.matchedHost == nil, "a host-less route matched no host, though found through the wildcard's bucket")
        let wildcard = try #require(r.0.match(RouteRequest(method: "GET", host: "shop.example.com", target: "/x", headers: [])))
        #expect(wildcard.matchedHost == "*.example.com")
    }

    @Test func moreKindsOfConditionWinOverALongerPrefix() throws {
        let r = try router(
            """
            - {name: long-path, service: s, paths: [/orders/items/special]}
            - {name: post-orders, service: s, paths: [/orders], methods: [POST]}
            """
        )
        #expect(routeName(r, "/orders/items/special", method: "POST") == "post-orders")
        #expect(routeName(r, "/orders/items/special", method: "GET") == "long-path")
        #expect(routeName(r, "/orders", method: "GET") == nil)
    }

    @Test func headersMatchCaseInsensitivelyAndByRegex() throws {
        let r = try router(
            """
            - {name: plain, service: s, paths: [/]}
            - {name: v2, service: s, paths: [/], headers: {X-Version: [V2, v3]}}
            - {name: beta, service: s, paths: [/], headers: {X-Channel: ["~*^beta-\\\\d+$"]}}
            """
        )
        #expect(routeName(r, "/", headers: [("x-version", "v2")]) == "v2")
        #expect(routeName(r, "/", headers: [("X-VERSION", "V3")]) == "v2")
        #expect(routeName(r, "/", headers: [("X-Version", "v4")]) == "plain")
        #expect(routeName(r, "/", headers: [("X-Channel", "BETA-7")]) == "beta")
        #expect(routeName(r, "/", headers: [("X-Channel", "beta-x")]) == "plain")
    }

    @Test func aTieGoesToTheRouteDeclaredFirst() throws {
        let r = try router(
            """
            - {name: first, service: s, paths: [/same]}
            - {name: second, service: s, paths: [/same]}
            """
        )
        #expect(routeName(r, "/same") == "first")
    }

    @Test func routesOfADisabledServiceAreNotRouted() throws {
        let r = try router(
            """
            - {name: live, service: s, paths: [/]}
            - {name: dead, service: disabled, paths: [/dead]}
            """
        )
        #expect(routeName(r, "/dead") == "live")
    }

    @Test func dotSegmentsAndEscapesAreNormalizedBeforeMatching() throws {
        let r = try router(
            """
            - {name: public, service: s, paths: [/public]}
            - {name: admin, service: s, paths: [/admin]}
            """
        )
        #expect(routeName(r, "/public/../admin/users") == "admin")
        #expect(routeName(r, "/%61dmin") == "admin")
        #expect(routeName(r, "//public") == "public")
    }

    /// Kong's path_handling v0 table: service path × strip_path × request path.
    @Test(arguments: [
        // (service path, strip_path, route path, request, upstream)
        ("/", true, "/api", "/api/orders", "/orders"),
        ("/", true, "/api", "/api", "/"),
        ("/v1", true, "/api", "/api/orders", "/v1/orders"),
        ("/v1", true, "/api", "/api", "/v1"),
        ("/v1", true, "/api", "/api/", "/v1/"),
        ("/v1/", true, "/api", "/api/orders", "/v1/orders"),
        ("/v1/", true, "/api", "/api", "/v1"),
        ("/v1", false, "/api", "/api/orders", "/v1/api/orders"),
        ("/v1/", false, "/api", "/api/orders", "/v1/api/orders"),
        ("/", false, "/api", "/api/orders", "/api/orders"),
        ("/v1", true, "/ap", "/api/x", "/v1/i/x"),
    ])
    func upstreamPathFollowsKongsPathHandlingV0(servicePath: String, stripPath: Bool, routePath: String, request: String, upstream: String) throws {
        let r = try router("- {name: r, service: s, paths: [\(routePath)], strip_path: \(stripPath)}", servicePath: servicePath)
        let match = try #require(r.0.match(RouteRequest(method: "GET", host: nil, target: request)))
        #expect(match.upstreamPath == upstream)
    }

    @Test("the matched host is the route's own spelling: by exact name, with a port, listed twice, IPv6; none for a host-less route")
    func theMatchedHostIsTheRoutesSpelling() throws {
        let r = try router(
            """
            - {name: plain, service: s, hosts: [api.example.com], paths: [/plain]}
            - {name: ported, service: s, hosts: ["api.example.com:8080"], paths: [/ported]}
            - {name: both, service: s, hosts: ["both.example.com:8080", both.example.com], paths: [/both]}
            - {name: v6, service: s, hosts: ["::1"], paths: [/v6]}
            - {name: anywhere, service: s, paths: [/anywhere]}
            """
        )
        func matchedHost(_ target: String, _ host: String) throws -> String? {
            try #require(r.0.match(RouteRequest(method: "GET", host: host, target: target)), "\(host)\(target)").matchedHost
        }
        #expect(try matchedHost("/plain", "api.example.com") == "api.example.com")
        #expect(try matchedHost("/plain", "API.example.com:8080") == "api.example.com")
        #expect(try matchedHost("/ported", "api.example.com:8080") == "api.example.com:8080")
        // Listed twice: the first of the route's hosts that fits the request, as before the bucket said it.
        #expect(try matchedHost("/both", "both.example.com:8080") == "both.example.com:8080")
        #expect(try matchedHost("/both", "both.example.com") == "both.example.com")
        #expect(try matchedHost("/v6", "[::1]:8080") == "::1")
        #expect(try matchedHost("/anywhere", "api.example.com") == nil, "a host-less route found through an exact host's bucket")
    }

    @Test func aRouteWithoutPathsKeepsTheWholePath() throws {
        let r = try router("- {name: by-host, service: s, hosts: [api.example.com]}", servicePath: "/base")
        let match = try #require(r.0.match(RouteRequest(method: "GET", host: "api.example.com", target: "/a/b")))
        #expect(match.upstreamPath == "/base/a/b" && match.matchedHost == "api.example.com" && match.matchedPath == nil)
    }

    @Test func manyRoutesStillPickTheRightOne() throws {
        let routes = (0..<2000).map { "- {name: r\($0), service: s, paths: [/svc-\($0)/items], hosts: [h\($0 % 10).example.com]}" }.joined(
            separator: "\n"
        )
        let r = try router(routes)
        #expect(routeName(r, "/svc-1237/items/9", host: "h7.example.com") == "r1237")
        #expect(routeName(r, "/svc-1237/items/9", host: "h6.example.com") == nil)
    }
}
