import Gateway
import Testing

/// A kong.yaml as a Kong user writes it: every supported entity, nested and top-level, with Kong's own field names.
let kongFile = """
    _format_version: "3.0"
    _comment: exported from Kong 3.9
    upstreams:
    - name: orders.upstream
      algorithm: least-connections
      healthchecks:
        active:
          http_path: /health
          healthy: {interval: 5, successes: 2}
          unhealthy: {interval: 5, http_failures: 3}
        passive:
          unhealthy: {http_failures: 5, timeouts: 2}
      targets:
      - target: 10.0.0.1:8080
        weight: 50
      - target: orders-2.internal
    services:
    - name: orders
      host: orders.upstream
      path: /v1
      retries: 3
      read_timeout: 5000
      routes:
      - name: orders-api
        paths: [/orders]
        methods: [GET, POST]
        plugins:
        - name: rate-limiting
          config: {minute: 60, policy: local}
      plugins:
      - name: key-auth
        config: {key_names: [x-api-key], hide_credentials: true}
    - name: catalog
      url: https://catalog.internal/api
    routes:
    - name: catalog
      service: catalog
      hosts: ["*.example.com"]
      paths: ["~/items/(?<id>\\\\d+)$"]
      regex_priority: 10
      strip_path: false
    consumers:
    - username: alice
      keyauth_credentials:
      - key: alice-secret-key
      acls:
      - group: admins
      basicauth_credentials:
      - username: alice
        password: s3cret
      jwt_secrets:
      - key: alice-issuer
        secret: hmac-secret
      plugins:
      - name: rate-limiting
        config: {minute: 1000}
    plugins:
    - name: prometheus
    - name: cors
      route: catalog
      config: {origins: ["https://shop.example.com"]}
    keyauth_credentials:
    - consumer: alice
      key: alice-second-key
    """

@Suite("Kong declarative configuration")
struct DeclarativeConfigTests {
    func issues(_ yaml: String) -> [ConfigurationIssue] {
        do {
            _ = try GatewayConfiguration.load(yaml: yaml, source: "kong.yaml")
            Issue.record("expected the configuration to be refused")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func aKongUsersFileLoadsUnchangedWithKongsDefaults() throws {
        let configuration = try GatewayConfiguration.load(yaml: kongFile)
        #expect(configuration.services.map(\.name) == ["orders", "catalog"])
        let orders = configuration.services[0]
        #expect(orders.port == 80 && orders.path == "/v1" && orders.retries == 3)
        #expect(orders.readTimeout == .milliseconds(5000) && orders.connectTimeout == .milliseconds(60_000))
        #expect(orders.upstream == EntityIndex(0))
        let catalog = configuration.services[1]
        #expect(catalog.scheme == .https && catalog.host == "catalog.internal" && catalog.port == 443 && catalog.path == "/api")

        #expect(configuration.routes.map(\.name) == ["orders-api", "catalog"])
        let route = configuration.routes[0]
        #expect(route.stripPath && !route.preserveHost && route.protocols == [.http, .https] && route.httpsRedirectStatusCode == 426)
        #expect(route.service == EntityIndex(0))
        #expect(configuration.routes[1].service == EntityIndex(1) && !configuration.routes[1].stripPath)

        let upstream = configuration.upstreams[0]
        #expect(upstream.algorithm == .leastConnections && upstream.slots == 10_000)
        #expect(upstream.targets.map(\.address) == ["10.0.0.1:8080", "orders-2.internal:8000"])
        #expect(upstream.targets.map(\.weight) == [50, 100])
        #expect(upstream.healthchecks.active.httpPath == "/health" && upstream.healthchecks.active.healthy.successes == 2)
        #expect(upstream.healthchecks.active.unhealthy.httpStatuses == [429, 404, 500, 501, 502, 503, 504, 505])
        #expect(upstream.healthchecks.passive.unhealthy.httpFailures == 5 && upstream.healthchecks.passive.unhealthy.httpStatuses == [429, 500, 503])

        let alice = configuration.consumers[0]
        #expect(alice.keyAuthCredentials.map(\.key.value) == ["alice-secret-key", "alice-second-key"])
        #expect(alice.acls.map(\.group) == ["admins"] && alice.basicAuthCredentials.map(\.username) == ["alice"])
        #expect(alice.jwtSecrets.first?.algorithm == .hs256)

        let names = configuration.plugins.map(\.name)
        #expect(names == ["rate-limiting", "key-auth", "rate-limiting", "prometheus", "cors"])
        guard case .keyAuth(let keyAuth) = configuration.plugins[1].configuration else {
            Issue.record("key-auth not typed")
            return
        }
        #expect(keyAuth.keyNames == ["x-api-key"] && keyAuth.hideCredentials && keyAuth.keyInQuery && keyAuth.runOnPreflight)
        #expect(configuration.plugins[1].service == EntityIndex(0) && configuration.plugins[1].route == nil)
        guard case .rateLimiting(let limits) = configuration.plugins[0].configuration else {
            Issue.record("rate-limiting not typed")
            return
        }
        #expect(limits.limits == [.minute: 60] && limits.limitBy == .consumer && limits.errorCode == 429 && limits.faultTolerant)
        #expect(configuration.plugins[4].route == EntityIndex(1))
        #expect(configuration.plugins[2].consumer == EntityIndex(0))
    }

    @Test func anUnknownFieldIsNamedByKeyPathAndLine() {
        let found = issues(
            """
            _format_version: "3.0"
            services:
            - name: a
              host: a.internal
              routes:
              - paths: [/a]
              - paths: [/b]
                foo: bar
            """
        )
        #expect(found == [ConfigurationIssue(keyPath: "services[0].routes[1].foo", line: 8, column: 5, reason: "unknown field")])
    }

    @Test func everyProblemIsReportedNotOnlyTheFirstInFileOrder() {
        let found = issues(
            """
            _format_version: "3.0"
            services:
            - name: a
              host: a.internal
              port: 70000
              routes:
              - name: r
                paths: [orders]
            plugins:
            - name: request-termination
            - name: rate-limiting
              service: nope
              config: {minute: 10, hour: 5}
            """
        )
        #expect(
            found.map(\.keyPath) == [
                "services[0].port", "services[0].routes[0].paths[0]", "plugins[0].name", "plugins[1].service", "plugins[1].config.hour",
            ]
        )
        #expect(found.map(\.line) == [5, 8, 10, 12, 13])
        #expect(found[0].reason.contains("between 0 and 65535"))
        #expect(found[1].reason == "should start with: / (fixed path) or ~/ (regex path)")
        #expect(found[2].reason.hasPrefix("plugin 'request-termination' is not supported yet"))
        #expect(found[3].reason == "no service with name or id 'nope'")
        #expect(found[4].reason.contains("cannot be lower than the limit for minute"))
    }

    @Test func jsonInputLoadsAndItsErrorsCarryLinesToo() throws {
        let json = """
            {
            \t"_format_version": "3.0",
            \t"services": [
            \t\t{"name": "a", "url": "http://a.internal:9000", "routes": [{"paths": ["/a"], "strip_path": "yes"}]}
            \t]
            }
            """
        let found = issues(json)
        #expect(found.count == 1)
        #expect(found.first?.keyPath == "services[0].routes[0].strip_path" && found.first?.line == 4)
        #expect(found.first?.reason == "expected a boolean, got a string")

        let good = try GatewayConfiguration.load(yaml: json.replacingOccurrences(of: "\"yes\"", with: "false"))
        #expect(good.services[0].port == 9000 && good.routes[0].stripPath == false)
    }

    @Test func aRouteNeedsAConditionAndKongsPathRules() {
        let found = issues(
            """
            _format_version: "3.0"
            routes:
            - name: nothing
            - name: bad-paths
              paths: [/a//b, /a/../b, "~/(unclosed"]
              headers: {Host: [x]}
              https_redirect_status_code: 303
            """
        )
        #expect(
            found.map(\.keyPath) == [
                "routes[0]", "routes[1].paths[0]", "routes[1].paths[1]", "routes[1].paths[2]", "routes[1].headers.Host",
                "routes[1].https_redirect_status_code",
            ]
        )
        #expect(found[0].reason == "must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http' or 'https'")
        #expect(found[1].reason == "must not have empty segments")
        #expect(found[2].reason == "non-normalized path, consider use '/b' instead")
        #expect(found[3].reason.hasPrefix("invalid regex"))
        #expect(found[4].reason.contains("must be specified in the 'hosts' attribute"))
    }

    @Test func duplicateNamesKeysAndPluginInstancesAreRefused() {
        let found = issues(
            """
            _format_version: "3.0"
            services:
            - {name: a, host: a.internal}
            - {name: a, host: b.internal}
            consumers:
            - username: alice
              keyauth_credentials: [{key: k1}]
            - username: bob
              keyauth_credentials: [{key: k1}]
            plugins:
            - name: prometheus
            - name: prometheus
            """
        )
        #expect(found.map(\.keyPath) == ["services[1].name", "consumers[1].keyauth_credentials[0].key", "plugins[1]"])
        #expect(found[0].reason == "duplicate name 'a': services services[0] has it already")
        #expect(found[2].reason.hasPrefix("duplicate plugin 'prometheus'"))
    }

    @Test func kongFieldsNotImplementedYetAreErrorsUnlessLeftAtKongsDefault() throws {
        // Kong's export writes its defaults out; those load.
        _ = try GatewayConfiguration.load(
            yaml: """
                _format_version: "3.0"
                services:
                - {name: a, host: a.internal, tls_verify: null, ca_certificates: []}
                routes:
                - {service: a, paths: [/], path_handling: v0, snis: [], sources: [], request_buffering: true}
                upstreams:
                - {name: u, use_srv_name: false}
                """
        )
        let found = issues(
            """
            _format_version: "3.0"
            services:
            - {name: a, protocol: grpc, host: a.internal, tls_verify: true}
            routes:
            - {service: a, paths: [/], path_handling: v1}
            plugins:
            - {name: rate-limiting, config: {second: 1, policy: redis}}
            - {name: key-auth, config: {key_in_body: true}}
            """
        )
        #expect(
            found.map(\.keyPath) == [
                "services[0].protocol", "services[0].tls_verify", "routes[0].path_handling", "plugins[0].config.policy",
                "plugins[1].config.key_in_body",
            ]
        )
        #expect(found.allSatisfy { $0.reason.contains("not supported yet") })
    }

    @Test func proxyCacheAndSlidingWindowFieldsAreReadAndChecked() throws {
        let configuration = try GatewayConfiguration.load(
            yaml: """
                _format_version: "3.0"
                plugins:
                - {name: proxy-cache, config: {strategy: memory, memory: {dictionary_name: kong_db_cache, max_bytes: 65536, max_entry_bytes: 512}}}
                - {name: rate-limiting, config: {minute: 5, window_type: sliding, policy: cluster}}
                """
        )
        guard case .proxyCache(let cache) = configuration.plugins[0].configuration,
            case .rateLimiting(let limits) = configuration.plugins[1].configuration
        else {
            Issue.record("plugins not typed")
            return
        }
        #expect(cache.maxBytes == 65536 && cache.maxEntryBytes == 512)
        #expect(limits.windowType == .sliding && limits.policy == .cluster)

        let found = issues(
            """
            _format_version: "3.0"
            plugins:
            - {name: proxy-cache, config: {strategy: redis, memory: {max_bytes: 2048, max_entry_bytes: 4096}}}
            - {name: rate-limiting, config: {minute: 5, window_type: rolling}}
            """
        )
        #expect(found.map(\.keyPath) == ["plugins[0].config.strategy", "plugins[0].config.memory.max_entry_bytes", "plugins[1].config.window_type"])
    }

    @Test func authenticationPluginsCannotBeScopedToAConsumer() {
        let found = issues(
            """
            _format_version: "3.0"
            consumers:
            - username: alice
              plugins:
              - name: key-auth
            plugins:
            - name: acl
              consumer: alice
              config: {allow: [a]}
            - name: acl
              config: {}
            """
        )
        #expect(found.map(\.keyPath) == ["consumers[0].plugins[0]", "plugins[0].consumer", "plugins[1].config"])
        #expect(found[2].reason.contains("'config.allow', 'config.deny'"))
    }

    @Test func formatVersionIsRequiredAndMustBeThree() {
        #expect(issues("services: []").map(\.reason) == ["_format_version: required field missing (\"3.0\")"])
        #expect(issues("_format_version: 3.0").first?.reason.contains("quote it") == true)
        #expect(issues("_format_version: \"2.1\"").first?.reason.contains("deck file convert") == true)
    }

    @Test func yamlSyntaxErrorsSayWhere() {
        let found = issues("_format_version: \"3.0\"\nservices:\n  - name: a\n   host: b\n")
        #expect(found.count == 1 && found[0].line == 4)
        #expect(found[0].reason.hasPrefix("not valid YAML or JSON"))
    }

    @Test func secretsDoNotPrint() throws {
        let configuration = try GatewayConfiguration.load(yaml: kongFile)
        let printed = "\(configuration.consumers[0])"
        var dumped = ""
        dump(configuration.consumers[0], to: &dumped)
        for secret in ["alice-secret-key", "s3cret", "hmac-secret"] {
            #expect(!printed.contains(secret))
            #expect(!dumped.contains(secret))
        }
    }

    @Test func issuesBecomeConfigurationErrorsNamingFieldAndLine() {
        do {
            _ = try GatewayConfiguration.load(yaml: "_format_version: \"3.0\"\nservices:\n- {name: a}\n", source: "gateway.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(
                error.configurationErrors.map(\.description) == ["services[0] (from gateway.yaml line 3): host: required field missing (or set url)"]
            )
            #expect(error.description.contains("gateway.yaml:3:3: services[0]: host: required field missing"))
        }
    }
}
