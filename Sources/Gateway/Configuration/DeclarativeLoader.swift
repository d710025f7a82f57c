import Foundation
import Yams

extension GatewayConfiguration {
    /// Loads Kong's declarative format from a file (YAML, or JSON when it starts with `{`).
    public static func load(contentsOf url: URL) throws -> GatewayConfiguration {
        let data = try Data(contentsOf: url)
        guard let text = String(data: data, encoding: .utf8) else {
            throw GatewayConfigurationError(
                source: url.path,
                issues: [ConfigurationIssue(keyPath: "", line: nil, column: nil, reason: "the file is not UTF-8 text")]
            )
        }
        return try load(yaml: text, source: url.path)
    }

    /// Loads Kong's declarative format (`_format_version: "3.0"`) from text, YAML or JSON. Every problem is collected
    /// and thrown together, each named by key path and line.
    ///
    /// ```
    /// let configuration = try GatewayConfiguration.load(yaml: """
    ///     _format_version: "3.0"
    ///     services:
    ///     - name: orders
    ///       url: http://orders.internal:8080
    ///       routes:
    ///       - name: orders
    ///         paths: [/orders]
    ///     """)
    /// ```
    public static func load(yaml text: String, source: String = "<input>") throws(GatewayConfigurationError) -> GatewayConfiguration {
        let loader = DeclarativeLoader()
        let configuration = loader.load(text)
        let issues = loader.diagnostics.issues.enumerated()
            .sorted { ($0.element.line ?? .max, $0.offset) < ($1.element.line ?? .max, $1.offset) }
            .map(\.element)
        guard issues.isEmpty, let configuration else {
            throw GatewayConfigurationError(source: source, issues: issues)
        }
        return configuration
    }
}

/// A reference by name or id from one entity to another (`service: orders`), resolved once everything is read.
private struct Reference {
    let value: String
    let path: ConfigPath
    let mark: Mark?
}

/// Reads the document into entities, then resolves references and checks uniqueness; reports into `diagnostics`.
final class DeclarativeLoader {
    let diagnostics = Diagnostics()

    private var services: [Service] = []
    private var routes: [Route] = []
    private var consumers: [Consumer] = []
    private var plugins: [PluginInstance] = []
    private var upstreams: [Upstream] = []

    private var routeServiceReferences: [(route: Int, reference: Reference)] = []
    private var pluginReferences: [(plugin: Int, field: String, reference: Reference)] = []
    private var credentialReferences: [(kind: String, credential: Credential, reference: Reference)] = []
    private var targetReferences: [(target: Target, reference: Reference)] = []
    /// (entity kind, key) → where it was first defined, for duplicate checks.
    private var unique: [String: [String: String]] = [:]
    private var places: [ConfigPath: Mark?] = [:]

    private enum Credential {
        case keyAuth(KeyAuthCredential)
        case jwt(JWTSecret)
        case basicAuth(BasicAuthCredential)
        case acl(ACLGroup)
    }

    private static let supportedFormatVersion = "3.0"

    func load(_ text: String) -> GatewayConfiguration? {
        // JSON is YAML's flow style, so one parser gives lines for both; a tab is whitespace outside JSON strings
        // (inside, JSON requires `\t`), but libyaml refuses tabs in some places, so they become spaces.
        let trimmed = text.drop { $0.isWhitespace }
        let yaml = trimmed.first == "{" ? text.replacingOccurrences(of: "\t", with: " ") : text
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                diagnostics.report(.root, nil, "the document is empty; expected an object with _format_version")
                return nil
            }
            root = node
        } catch let error as YamlError {
            report(error)
            return nil
        } catch {
            diagnostics.report(.root, nil, "could not parse: \(error)")
            return nil
        }
        guard let document = ObjectReader(root, at: .root, diagnostics) else { return nil }
        readDocument(document)
        resolve()
        return GatewayConfiguration(services: services, routes: routes, consumers: consumers, plugins: plugins, upstreams: upstreams)
    }

    private func report(_ error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let reason = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            diagnostics.report(.root, mark, "not valid YAML or JSON: \(reason)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            diagnostics.report(.root, context.mark, "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one object")
        default:
            diagnostics.report(.root, nil, "not valid YAML or JSON: \(error)")
        }
    }

    // MARK: The document

    private func readDocument(_ document: ObjectReader) {
        switch document.value("_format_version") {
        case nil:
            document.report(nil, "_format_version: required field missing (\"\(Self.supportedFormatVersion)\")")
        case let node?:
            if let version = node.stringValue {
                if ["1.1", "2.1"].contains(version) {
                    document.report(
                        "_format_version",
                        "format \(version) is not supported; convert it with `deck file convert --from kong-gateway-2.x --to kong-gateway-3.x`"
                    )
                } else if version != Self.supportedFormatVersion {
                    document.report("_format_version", "expected \"\(Self.supportedFormatVersion)\" (got \"\(version)\")")
                }
            } else {
                document.report("_format_version", "expected a string, got \(node.kindDescription); quote it: \"\(Self.supportedFormatVersion)\"")
            }
        }
        document.notSupportedYet("_transform", unless: { $0.boolValue == true }, "passwords are read as written")
        document.informational("_comment", "_ignore")
        document.notSupportedYet("_workspace", unless: { $0.stringValue == "default" }, "Kong OSS has one workspace")
        document.notSupportedYet("_info", "decK's select_tags and defaults; run `deck file render` first")
        document.notSupportedYet("_konnect", "Konnect control planes")

        for (index, reader) in document.objects("upstreams") { readUpstream(reader, index: index) }
        for (_, reader) in document.objects("services") { readService(reader) }
        for (_, reader) in document.objects("routes") { readRoute(reader, service: nil) }
        for (_, reader) in document.objects("consumers") { readConsumer(reader) }
        for (_, reader) in document.objects("plugins") { readPlugin(reader, route: nil, service: nil, consumer: nil) }
        for (_, reader) in document.objects("targets") {
            if let target = readTarget(reader, upstream: nil) {
                if let reference = reference(reader, "upstream") {
                    targetReferences.append((target, reference))
                } else {
                    reader.report(nil, "upstream: required field missing (the upstream's name or id)")
                }
            }
            reader.finish()
        }
        for kind in ["keyauth_credentials", "jwt_secrets", "basicauth_credentials", "acls"] {
            for (_, reader) in document.objects(kind) {
                if let credential = readCredential(kind, reader) {
                    if let reference = reference(reader, "consumer") {
                        credentialReferences.append((kind, credential, reference))
                    } else {
                        reader.report(nil, "consumer: required field missing (the consumer's username or id)")
                    }
                }
                reader.finish()
            }
        }
        for kind in [
            "certificates", "ca_certificates", "snis", "vaults", "keys", "key_sets", "filter_chains", "parameters", "consumer_groups", "workspaces",
        ] {
            document.notSupportedYet(kind, unless: \.isEmptySequence)
        }
        document.finish()
    }

    // MARK: Common fields

    /// `id`, `tags` and the fields Kong writes into exports that change nothing here.
    private func readCommon(_ reader: ObjectReader, kind: String) -> (id: String?, tags: [String]) {
        let id = reader.string("id") { Self.isUUID($0) ? nil : "expected a valid UUID" }
        if let id { claim(kind: kind, field: "id", id, at: reader.childPath("id"), reader.mark(of: "id")) }
        let tags =
            reader.strings("tags", default: [], unique: true) { tag in
                tag.contains(",") || tag.contains("/")
                    ? "invalid tag '\(tag)': expected printable ascii (except `,` and `/`) or valid utf-8 sequences" : nil
            } ?? []
        reader.informational("created_at", "updated_at", "_comment", "_ignore")
        return (id, tags)
    }

    /// 8-4-4-4-12 hexadecimal digits.
    private static func isUUID(_ value: String) -> Bool {
        let groups = value.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    /// Records that `kind` has `key` in `field`; a second claim is a duplicate, reported where it is.
    private func claim(kind: String, field: String, _ key: String, at path: ConfigPath, _ mark: Mark?) {
        let slot = "\(kind).\(field)"
        if let first = unique[slot]?[key] {
            diagnostics.report(path, mark, "duplicate \(field) '\(key)': \(kind) \(first) has it already")
            return
        }
        unique[slot, default: [:]][key] = path.parentDescription
    }

    private func reference(_ reader: ObjectReader, _ field: String) -> Reference? {
        guard let value = reader.string(field) else { return nil }
        return Reference(value: value, path: reader.childPath(field), mark: reader.mark(of: field))
    }

    /// A nested entity must not name its parent again: the nesting says it.
    private func forbidParent(_ reader: ObjectReader, _ field: String, _ parent: String) {
        if reader.contains(field) {
            reader.report(field, "not allowed in a \(parent)'s nested list (it belongs to the \(parent) it is nested in)")
        }
        reader.informational(field)
    }

    // MARK: Services and routes

    private func readService(_ reader: ObjectReader) {
        let (id, tags) = readCommon(reader, kind: "services")
        let name = reader.string("name", validate: Validators.name)
        if let name { claim(kind: "services", field: "name", name, at: reader.childPath("name"), reader.mark(of: "name")) }
        var service = Service(id: id, name: name, host: "")
        service.tags = tags

        if let url = reader.string("url") {
            for field in ["protocol", "host", "port", "path"] where reader.contains(field) {
                reader.report(field, "cannot be set together with 'url' (url sets protocol, host, port and path)")
                _ = reader.value(field)
            }
            if let parsed = parseServiceURL(url, reader) {
                (service.scheme, service.host, service.port, service.path) = parsed
            }
        } else {
            service.scheme = readUpstreamScheme(reader) ?? .http
            if let host = reader.string("host", validate: Validators.host) {
                service.host = host
            } else if !reader.contains("host") {
                reader.report(nil, "host: required field missing (or set url)")
            }
            service.port = reader.integer("port", default: 80, in: 0...65_535) ?? 80
            service.path = reader.string("path", validate: Validators.path)
        }
        service.retries = reader.integer("retries", default: 5, in: 0...32_767) ?? 5
        let timeouts = 1...2_147_483_646
        service.connectTimeout = .milliseconds(reader.integer("connect_timeout", default: 60_000, in: timeouts) ?? 60_000)
        service.writeTimeout = .milliseconds(reader.integer("write_timeout", default: 60_000, in: timeouts) ?? 60_000)
        service.readTimeout = .milliseconds(reader.integer("read_timeout", default: 60_000, in: timeouts) ?? 60_000)
        service.enabled = reader.bool("enabled", default: true)
        reader.notSupportedYet("tls_verify", "upstream TLS settings")
        reader.notSupportedYet("tls_verify_depth", "upstream TLS settings")
        reader.notSupportedYet("ca_certificates", unless: \.isEmptySequence, "upstream TLS settings")
        reader.notSupportedYet("client_certificate", "upstream TLS settings")

        let index = services.count
        services.append(service)
        for (_, route) in reader.objects("routes") { readRoute(route, service: EntityIndex(index)) }
        for (_, plugin) in reader.objects("plugins") { readPlugin(plugin, route: nil, service: EntityIndex(index), consumer: nil) }
        reader.finish()
    }

    private func readUpstreamScheme(_ reader: ObjectReader) -> Service.UpstreamScheme? {
        guard let value = reader.string("protocol") else { return nil }
        return scheme(value) { reader.report("protocol", $0) }
    }

    private func scheme(_ value: String, report: (String) -> Void) -> Service.UpstreamScheme? {
        if let scheme = Service.UpstreamScheme(rawValue: value) { return scheme }
        if ["grpc", "grpcs", "tcp", "tls", "tls_passthrough", "udp", "ws", "wss"].contains(value) {
            report("protocol '\(value)' is not supported yet; use http or https")
        } else {
            report("expected one of: http, https (got '\(value)')")
        }
        return nil
    }

    private func parseServiceURL(_ url: String, _ reader: ObjectReader) -> (Service.UpstreamScheme, String, Int, String?)? {
        guard let components = URLComponents(string: url), let rawScheme = components.scheme, let host = components.host, !host.isEmpty else {
            reader.report("url", "could not parse '\(url)': expected scheme://host[:port][/path]")
            return nil
        }
        guard let scheme = scheme(rawScheme.lowercased(), report: { reader.report("url", $0) }) else { return nil }
        let hostName = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if let problem = Validators.host(hostName) {
            reader.report("url", problem)
            return nil
        }
        if components.query != nil || components.fragment != nil {
            reader.report("url", "a service url has no query or fragment")
        }
        let path = components.percentEncodedPath.isEmpty ? nil : components.percentEncodedPath
        if let path, let problem = Validators.path(path) { reader.report("url", "path: \(problem)") }
        return (scheme, hostName, components.port ?? (scheme == .https ? 443 : 80), path)
    }

    private func readRoute(_ reader: ObjectReader, service: EntityIndex<Service>?) {
        let (id, tags) = readCommon(reader, kind: "routes")
        let name = reader.string("name", validate: Validators.name)
        if let name { claim(kind: "routes", field: "name", name, at: reader.childPath("name"), reader.mark(of: "name")) }
        var route = Route(id: id, name: name, tags: tags, service: service)

        if let protocols = reader.strings(
            "protocols",
            unique: true,
            validate: { value in
                if Route.RequestProtocol(rawValue: value) != nil { return nil }
                if ["grpc", "grpcs", "tcp", "tls", "tls_passthrough", "udp", "ws", "wss"].contains(value) {
                    return "protocol '\(value)' is not supported yet; use http or https"
                }
                return "expected one of: http, https (got '\(value)')"
            }
        ) {
            if protocols.isEmpty && reader.contains("protocols") { reader.report("protocols", "length must be at least 1") }
            let accepted = Set(protocols.compactMap(Route.RequestProtocol.init(rawValue:)))
            if !accepted.isEmpty { route.protocols = accepted }
        }
        route.methods = reader.strings("methods", default: [], unique: true, validate: Validators.httpMethod) ?? []
        route.hosts = (reader.strings("hosts", default: [], validate: Self.routeHostProblem) ?? []).map { $0.lowercased() }
        route.paths = reader.strings("paths", default: [], validate: Self.routePathProblem) ?? []
        route.headers = readRouteHeaders(reader)
        route.httpsRedirectStatusCode = reader.integer("https_redirect_status_code", default: 426) ?? 426
        if ![426, 301, 302, 307, 308].contains(route.httpsRedirectStatusCode) {
            reader.report("https_redirect_status_code", "expected one of: 426, 301, 302, 307, 308")
        }
        route.stripPath = reader.bool("strip_path", default: true)
        route.preserveHost = reader.bool("preserve_host", default: false)
        route.requestBuffering = reader.bool("request_buffering", default: true)
        route.responseBuffering = reader.bool("response_buffering", default: true)
        route.regexPriority = reader.integer("regex_priority", default: 0) ?? 0
        reader.notSupportedYet("path_handling", unless: { $0.stringValue == "v0" }, "only path_handling v0, Kong's default, is implemented")
        reader.notSupportedYet("snis", unless: \.isEmptySequence, "TLS is terminated in front of the gateway")
        reader.notSupportedYet("sources", unless: \.isEmptySequence, "stream routes")
        reader.notSupportedYet("destinations", unless: \.isEmptySequence, "stream routes")
        reader.notSupportedYet("expression", "the expressions router")
        reader.notSupportedYet("priority", unless: { $0.integerValue == 0 }, "the expressions router")
        // Judged on what the file sets, so that a route whose only path is malformed gets one error, not two.
        if !["methods", "hosts", "paths", "headers"].contains(where: reader.contains) {
            reader.report(nil, "must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http' or 'https'")
        }

        let index = routes.count
        if service != nil {
            forbidParent(reader, "service", "service")
        } else if let reference = reference(reader, "service") {
            routeServiceReferences.append((index, reference))
        }
        routes.append(route)
        for (_, plugin) in reader.objects("plugins") { readPlugin(plugin, route: EntityIndex(index), service: nil, consumer: nil) }
        reader.finish()
    }

    private func readRouteHeaders(_ reader: ObjectReader) -> [String: [String]] {
        guard let headers = reader.object("headers") else { return [:] }
        var result: [String: [String]] = [:]
        for name in headers.keys {
            if let problem = Validators.headerName(name) {
                headers.report(name, problem)
                _ = headers.value(name)
                continue
            }
            if name.lowercased() == "host" {
                headers.report(name, "cannot contain 'host' header, which must be specified in the 'hosts' attribute")
                _ = headers.value(name)
                continue
            }
            let values =
                headers.strings(name, default: []) { value in
                    value.hasPrefix("~*") ? Validators.regex(String(value.dropFirst(2))) : nil
                } ?? []
            if values.isEmpty { headers.report(name, "at least one value is required") }
            result[name.lowercased(), default: []].append(contentsOf: values)
        }
        headers.finish()
        return result
    }

    /// Kong's route hosts: at most one `*`, as the whole leftmost or rightmost label; a port is allowed.
    static func routeHostProblem(_ host: String) -> String? {
        let stars = host.filter { $0 == "*" }.count
        if stars > 1 { return "invalid wildcard: must have at most one wildcard" }
        if stars == 1, !(host.hasPrefix("*.") || host.hasSuffix(".*")) { return "invalid wildcard: must be placed at leftmost or rightmost label" }
        var name = host.replacingOccurrences(of: "*", with: "wildcard")
        if let colon = name.lastIndex(of: ":"), !name.hasPrefix("["), !Validators.isIPv6(name) {
            guard let port = Int(name[name.index(after: colon)...]), (0...65_535).contains(port) else { return "invalid port number in '\(host)'" }
            name = String(name[..<colon])
        }
        if Validators.isIPv4(name) || Validators.isIPv6(name) || Validators.hostName(name) { return nil }
        return "invalid value: \(host)"
    }

    /// Kong's route paths: `/prefix` (already normalized) or `~/regex`; no empty segments.
    static func routePathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") || path.hasPrefix("~/") else { return "should start with: / (fixed path) or ~/ (regex path)" }
        if path.contains("//") { return "must not have empty segments" }
        if let problem = Validators.percentEscapes(path) { return problem }
        if path.hasPrefix("~") { return Validators.regex(String(path.dropFirst())) }
        let normalized = PathNormalization.normalize(path)
        return normalized == path ? nil : "non-normalized path, consider use '\(normalized)' instead"
    }

    // MARK: Consumers and credentials

    private func readConsumer(_ reader: ObjectReader) {
        let (id, tags) = readCommon(reader, kind: "consumers")
        let username = reader.string("username")
        let customID = reader.string("custom_id")
        if let username { claim(kind: "consumers", field: "username", username, at: reader.childPath("username"), reader.mark(of: "username")) }
        if let customID { claim(kind: "consumers", field: "custom_id", customID, at: reader.childPath("custom_id"), reader.mark(of: "custom_id")) }
        if username == nil && customID == nil && !reader.contains("username") && !reader.contains("custom_id") {
            reader.report(nil, "at least one of these fields must be non-empty: 'custom_id', 'username'")
        }
        var consumer = Consumer(id: id, username: username, customID: customID, tags: tags)
        for kind in ["keyauth_credentials", "jwt_secrets", "basicauth_credentials", "acls"] {
            for (_, credentialReader) in reader.objects(kind) {
                forbidParent(credentialReader, "consumer", "consumer")
                if let credential = readCredential(kind, credentialReader) { add(credential, to: &consumer) }
                credentialReader.finish()
            }
        }
        reader.notSupportedYet("groups", unless: \.isEmptySequence, "consumer groups are Kong Enterprise's")
        let index = consumers.count
        consumers.append(consumer)
        for (_, plugin) in reader.objects("plugins") { readPlugin(plugin, route: nil, service: nil, consumer: EntityIndex(index)) }
        reader.finish()
    }

    private func add(_ credential: Credential, to consumer: inout Consumer) {
        switch credential {
        case .keyAuth(let key): consumer.keyAuthCredentials.append(key)
        case .jwt(let secret): consumer.jwtSecrets.append(secret)
        case .basicAuth(let basic): consumer.basicAuthCredentials.append(basic)
        case .acl(let group): consumer.acls.append(group)
        }
    }

    /// One credential's own fields (not its `consumer`, which the caller handles).
    private func readCredential(_ kind: String, _ reader: ObjectReader) -> Credential? {
        let (id, tags) = readCommon(reader, kind: kind)
        switch kind {
        case "keyauth_credentials":
            reader.notSupportedYet("ttl", "expiring keys")
            guard let key = requiredString(reader, "key", "Kong would generate one, which nobody could then send") else { return nil }
            claim(kind: kind, field: "key", key, at: reader.childPath("key"), reader.mark(of: "key"))
            return .keyAuth(KeyAuthCredential(id: id, key: Secret(key), tags: tags))
        case "jwt_secrets":
            let algorithmName = reader.string("algorithm", default: "HS256") ?? "HS256"
            guard let algorithm = JWTSecret.Algorithm(rawValue: algorithmName) else {
                reader.report("algorithm", "expected one of: \(JWTSecret.Algorithm.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            guard let key = requiredString(reader, "key", "the value of the token's key claim (iss by default)") else { return nil }
            claim(kind: kind, field: "key", key, at: reader.childPath("key"), reader.mark(of: "key"))
            let secret = reader.string("secret")
            let publicKey = reader.string("rsa_public_key")
            let jwksURL = reader.string("jwks_url") { value in
                guard let url = URL(string: value), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false else {
                    return "expected an http:// or https:// URL of a JWK Set"
                }
                return nil
            }
            if algorithm.isHMAC {
                if secret == nil { reader.report(nil, "secret: required field missing for \(algorithmName)") }
                if jwksURL != nil { reader.report("jwks_url", "only for public-key algorithms (RS, PS, ES, EdDSA), not \(algorithmName)") }
            } else {
                switch (publicKey, jwksURL) {
                case (let publicKey?, nil):
                    if !(publicKey.contains("-----BEGIN") && publicKey.contains("PUBLIC KEY-----")) {
                        reader.report("rsa_public_key", "invalid key: expected a PEM public key (-----BEGIN PUBLIC KEY-----)")
                    }
                case (nil, nil): reader.report(nil, "rsa_public_key (or jwks_url): required field missing for \(algorithmName)")
                case (_?, _?): reader.report("jwks_url", "give rsa_public_key or jwks_url, not both")
                case (nil, _?): break
                }
            }
            return .jwt(
                JWTSecret(
                    id: id,
                    key: key,
                    secret: secret.map(Secret.init),
                    rsaPublicKey: publicKey,
                    jwksURL: jwksURL,
                    algorithm: algorithm,
                    tags: tags
                )
            )
        case "basicauth_credentials":
            let username = requiredString(reader, "username")
            let password = requiredString(reader, "password")
            if let username { claim(kind: kind, field: "username", username, at: reader.childPath("username"), reader.mark(of: "username")) }
            guard let username, let password else { return nil }
            return .basicAuth(BasicAuthCredential(id: id, username: username, password: Secret(password), tags: tags))
        default:
            guard let group = requiredString(reader, "group") else { return nil }
            return .acl(ACLGroup(id: id, group: group, tags: tags))
        }
    }

    private func requiredString(_ reader: ObjectReader, _ field: String, _ why: String = "") -> String? {
        if let value = reader.string(field) { return value }
        if !reader.contains(field) { reader.report(nil, "\(field): required field missing" + (why.isEmpty ? "" : " (\(why))")) }
        return nil
    }

    // MARK: Plugins

    private func readPlugin(_ reader: ObjectReader, route: EntityIndex<Route>?, service: EntityIndex<Service>?, consumer: EntityIndex<Consumer>?) {
        let (id, tags) = readCommon(reader, kind: "plugins")
        guard let name = requiredString(reader, "name") else {
            reader.informational("config")
            reader.finish()
            return
        }
        let instanceName = reader.string("instance_name", validate: Validators.name)
        if let instanceName {
            claim(kind: "plugins", field: "instance_name", instanceName, at: reader.childPath("instance_name"), reader.mark(of: "instance_name"))
        }
        let configNode = reader.value("config") ?? .mapping(Node.Mapping([], Tag(.map), .any, reader.mark))
        var configuration: PluginConfiguration?
        if PluginConfiguration.supportedNames.contains(name) {
            if let config = ObjectReader(configNode, at: reader.childPath("config"), diagnostics) {
                configuration = PluginConfiguration.read(name: name, config: config)
            }
        } else {
            reader.report(
                "name",
                "plugin '\(name)' is not supported yet; supported: \(PluginConfiguration.supportedNames.sorted().joined(separator: ", "))"
            )
        }
        let allowed = PluginConfiguration.allowedProtocols(name)
        let protocols =
            reader.strings("protocols", default: PluginConfiguration.defaultProtocols(name), unique: true) { value in
                allowed.contains(value) ? nil : "expected one of: \(allowed.sorted().joined(separator: ", "))"
            } ?? []
        let enabled = reader.bool("enabled", default: true)
        reader.notSupportedYet("ordering", "dynamic plugin ordering is Kong Enterprise's")
        reader.notSupportedYet("consumer_group", "consumer groups are Kong Enterprise's")

        let index = plugins.count
        var scopeRefused = false
        var references: [(String, Reference)] = []
        for (field, fixed) in [("route", route != nil), ("service", service != nil), ("consumer", consumer != nil)] {
            if fixed {
                forbidParent(reader, field, field)
            } else if let reference = reference(reader, field) {
                if field == "consumer", !PluginConfiguration.allowsConsumerScope(name) {
                    reader.report("consumer", "value must be null: \(name) cannot be configured on a consumer")
                    scopeRefused = true
                } else {
                    references.append((field, reference))
                }
            }
        }
        if consumer != nil, !PluginConfiguration.allowsConsumerScope(name) {
            reader.report(nil, "\(name) cannot be configured on a consumer")
        }
        places[reader.path] = reader.mark
        reader.finish()
        // An instance already refused is left out, so that it does not also collide with another as a duplicate.
        guard let configuration, !scopeRefused else { return }
        plugins.append(
            PluginInstance(
                id: id,
                instanceName: instanceName,
                configuration: configuration,
                route: route,
                service: service,
                consumer: consumer,
                protocols: Set(protocols),
                enabled: enabled,
                tags: tags
            )
        )
        pluginPaths.append(reader.path)
        for (field, reference) in references { pluginReferences.append((index, field, reference)) }
    }

    private var pluginPaths: [ConfigPath] = []

    // MARK: Upstreams and targets

    private func readUpstream(_ reader: ObjectReader, index: Int) {
        let (id, tags) = readCommon(reader, kind: "upstreams")
        let name = requiredString(reader, "name") ?? ""
        if !name.isEmpty {
            if Validators.isIPv4(name) || Validators.isIPv6(name) {
                reader.report("name", "Invalid name ('\(name)'); no ip addresses allowed")
            } else if name.contains(":") {
                reader.report("name", "Invalid name ('\(name)'); no port allowed")
            } else if !Validators.hostName(name) {
                reader.report("name", "Invalid name ('\(name)'); must be a valid hostname")
            }
            claim(kind: "upstreams", field: "name", name, at: reader.childPath("name"), reader.mark(of: "name"))
        }
        var upstream = Upstream(id: id, name: name, tags: tags)
        let algorithm = reader.string("algorithm")
        switch algorithm {
        case nil: break
        case "latency"?: reader.report("algorithm", "not supported yet (latency); use round-robin, least-connections or consistent-hashing")
        case let value?:
            if let parsed = Upstream.Algorithm(rawValue: value) {
                upstream.algorithm = parsed
            } else {
                reader.report("algorithm", "expected one of: consistent-hashing, least-connections, round-robin, latency")
            }
        }
        upstream.hashOn = readHashInput(
            reader,
            field: "hash_on",
            header: "hash_on_header",
            queryArg: "hash_on_query_arg",
            uriCapture: "hash_on_uri_capture"
        )
        upstream.hashFallback = readHashInput(
            reader,
            field: "hash_fallback",
            header: "hash_fallback_header",
            queryArg: "hash_fallback_query_arg",
            uriCapture: "hash_fallback_uri_capture"
        )
        _ = reader.string("hash_on_cookie")
        _ = reader.string("hash_on_cookie_path")
        if upstream.hashOn != .none {
            if algorithm == nil {
                upstream.algorithm = .consistentHashing  // Kong: a hash_on implies consistent hashing.
            } else if upstream.algorithm != .consistentHashing {
                reader.report("hash_on", "hashing on '\(reader.string("hash_on") ?? "")' needs algorithm consistent-hashing")
            }
        }
        switch upstream.hashOn {
        case .none, .cookie:
            if upstream.hashFallback != .none { reader.report("hash_fallback", "must be 'none' when hash_on is 'none' or 'cookie'") }
        case let on where on == upstream.hashFallback:
            reader.report("hash_fallback", "must differ from hash_on")
        default: break
        }
        upstream.slots = reader.integer("slots", default: 10_000, in: 10...65_536) ?? 10_000
        if let healthchecks = reader.object("healthchecks") { upstream.healthchecks = readHealthchecks(healthchecks) }
        upstream.hostHeader = reader.string("host_header") { value in
            Self.routeHostProblem(value).map { _ in "invalid value: \(value)" }
        }
        reader.notSupportedYet("client_certificate", "upstream TLS settings")
        reader.notSupportedYet("use_srv_name", unless: \.isFalse, "SRV records")
        upstreams.append(upstream)
        for (_, targetReader) in reader.objects("targets") {
            forbidParent(targetReader, "upstream", "upstream")
            if let target = readTarget(targetReader, upstream: upstreams.count - 1) { upstreams[upstreams.count - 1].targets.append(target) }
            targetReader.finish()
        }
        reader.finish()
    }

    private func readHashInput(_ reader: ObjectReader, field: String, header: String, queryArg: String, uriCapture: String) -> Upstream.HashInput {
        let headerName = reader.string(header, validate: Validators.headerName)
        let argument = reader.string(queryArg)
        let capture = reader.string(uriCapture)
        let value = reader.string(field, default: "none") ?? "none"
        func required(_ name: String?, _ companion: String) -> String? {
            if name == nil { reader.report(companion, "required field missing (\(field) is '\(value)')") }
            return name
        }
        switch value {
        case "none": return .none
        case "consumer": return .consumer
        case "ip": return .ip
        case "path": return .path
        case "header": return required(headerName, header).map(Upstream.HashInput.header) ?? .none
        case "cookie":
            guard let cookie = required(reader.string("hash_on_cookie"), "hash_on_cookie") else { return .none }
            return .cookie(name: cookie, path: reader.string("hash_on_cookie_path", default: "/", validate: Validators.path) ?? "/")
        case "query_arg": return required(argument, queryArg).map(Upstream.HashInput.queryArgument) ?? .none
        case "uri_capture": return required(capture, uriCapture).map(Upstream.HashInput.uriCapture) ?? .none
        default:
            reader.report(field, "expected one of: none, consumer, ip, header, cookie, path, query_arg, uri_capture")
            return .none
        }
    }

    private func readHealthchecks(_ reader: ObjectReader) -> Healthchecks {
        var checks = Healthchecks()
        checks.threshold = reader.number("threshold", default: 0, in: 0...100) ?? 0
        if let active = reader.object("active") {
            checks.active.type = readCheckType(active) ?? .http
            checks.active.timeout = active.number("timeout", default: 1, in: 0...65_535) ?? 1
            checks.active.concurrency = active.integer("concurrency", default: 10, in: 1...2_147_483_648) ?? 10
            checks.active.httpPath = active.string("http_path", default: "/", validate: Validators.path) ?? "/"
            checks.active.httpsSNI = active.string("https_sni")
            checks.active.httpsVerifyCertificate = active.bool("https_verify_certificate", default: true)
            if let headers = active.object("headers") {
                for name in headers.keys {
                    checks.active.headers[name] = headers.strings(name, default: []) ?? []
                }
                headers.finish()
            }
            if let healthy = active.object("healthy") {
                checks.active.healthy = readHealthy(healthy, base: checks.active.healthy, hasInterval: true)
                healthy.finish()
            }
            if let unhealthy = active.object("unhealthy") {
                checks.active.unhealthy = readUnhealthy(unhealthy, base: checks.active.unhealthy, hasInterval: true)
                unhealthy.finish()
            }
            active.finish()
        }
        if let passive = reader.object("passive") {
            checks.passive.type = readCheckType(passive) ?? .http
            if let healthy = passive.object("healthy") {
                checks.passive.healthy = readHealthy(healthy, base: checks.passive.healthy, hasInterval: false)
                healthy.finish()
            }
            if let unhealthy = passive.object("unhealthy") {
                checks.passive.unhealthy = readUnhealthy(unhealthy, base: checks.passive.unhealthy, hasInterval: false)
                unhealthy.finish()
            }
            passive.finish()
        }
        reader.finish()
        return checks
    }

    private func readCheckType(_ reader: ObjectReader) -> Healthchecks.CheckType? {
        guard let value = reader.string("type") else { return nil }
        if let type = Healthchecks.CheckType(rawValue: value) { return type }
        reader.report(
            "type",
            ["grpc", "grpcs"].contains(value) ? "not supported yet (\(value) health checks)" : "expected one of: tcp, http, https, grpc, grpcs"
        )
        return nil
    }

    private func readHealthy(_ reader: ObjectReader, base: Healthchecks.Healthy, hasInterval: Bool) -> Healthchecks.Healthy {
        var healthy = base
        if hasInterval { healthy.interval = reader.number("interval", default: base.interval, in: 0...65_535) ?? base.interval }
        healthy.httpStatuses = reader.integers("http_statuses", default: base.httpStatuses, in: 100...999)
        healthy.successes = reader.integer("successes", default: base.successes, in: 0...255) ?? base.successes
        return healthy
    }

    private func readUnhealthy(_ reader: ObjectReader, base: Healthchecks.Unhealthy, hasInterval: Bool) -> Healthchecks.Unhealthy {
        var unhealthy = base
        if hasInterval { unhealthy.interval = reader.number("interval", default: base.interval, in: 0...65_535) ?? base.interval }
        unhealthy.httpStatuses = reader.integers("http_statuses", default: base.httpStatuses, in: 100...999)
        unhealthy.tcpFailures = reader.integer("tcp_failures", default: base.tcpFailures, in: 0...255) ?? base.tcpFailures
        unhealthy.timeouts = reader.integer("timeouts", default: base.timeouts, in: 0...255) ?? base.timeouts
        unhealthy.httpFailures = reader.integer("http_failures", default: base.httpFailures, in: 0...255) ?? base.httpFailures
        return unhealthy
    }

    /// A target's own fields; `upstream` is the index when nested (duplicates are checked per upstream).
    private func readTarget(_ reader: ObjectReader, upstream: Int?) -> Target? {
        let (id, tags) = readCommon(reader, kind: "targets")
        let weight = reader.integer("weight", default: 100, in: 0...65_535) ?? 100
        guard let address = requiredString(reader, "target") else { return nil }
        guard let (host, port) = Self.parseTarget(address) else {
            reader.report("target", "Invalid target ('\(address)'); not a valid hostname or ip address")
            return nil
        }
        let target = Target(id: id, host: host, port: port, weight: weight, tags: tags)
        if let upstream {
            claim(kind: "upstreams[\(upstream)].targets", field: "target", target.address, at: reader.childPath("target"), reader.mark(of: "target"))
        }
        places[reader.path] = reader.mark(of: "target")
        return target
    }

    /// `host`, `host:port`, `[v6]:port` or a bare IPv6 address; Kong's default port is 8000.
    static func parseTarget(_ value: String) -> (String, Int)? {
        if Validators.isIPv6(value) { return (value, 8000) }
        var host = value
        var port = 8000
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { return nil }
            host = String(value[value.index(after: value.startIndex)..<close])
            let rest = value[value.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let parsed = Int(rest.dropFirst()) else { return nil }
                port = parsed
            }
            guard Validators.isIPv6(host) else { return nil }
        } else if let colon = value.lastIndex(of: ":") {
            host = String(value[..<colon])
            guard let parsed = Int(value[value.index(after: colon)...]) else { return nil }
            port = parsed
        }
        guard (1...65_535).contains(port), Validators.isIPv4(host) || Validators.isIPv6(host) || Validators.hostName(host) else { return nil }
        return (host, port)
    }

    // MARK: References

    private func resolve() {
        func find<Entity>(_ entities: [Entity], _ reference: Reference, kind: String, keys: (Entity) -> [String?]) -> EntityIndex<Entity>? {
            if let position = entities.firstIndex(where: { keys($0).contains(reference.value) }) { return EntityIndex(position) }
            diagnostics.report(reference.path, reference.mark, "no \(kind) with name or id '\(reference.value)'")
            return nil
        }
        for (route, reference) in routeServiceReferences {
            routes[route].service = find(services, reference, kind: "service") { [$0.name, $0.id] }
        }
        for (plugin, field, reference) in pluginReferences {
            guard plugin < plugins.count else { continue }
            switch field {
            case "route": plugins[plugin].route = find(routes, reference, kind: "route") { [$0.name, $0.id] }
            case "service": plugins[plugin].service = find(services, reference, kind: "service") { [$0.name, $0.id] }
            default: plugins[plugin].consumer = find(consumers, reference, kind: "consumer") { [$0.username, $0.id] }
            }
        }
        for (_, credential, reference) in credentialReferences {
            if let consumer = find(consumers, reference, kind: "consumer", keys: { [$0.username, $0.id] }) {
                add(credential, to: &consumers[consumer.position])
            }
        }
        for (target, reference) in targetReferences {
            guard let upstream = find(upstreams, reference, kind: "upstream", keys: { [$0.name, $0.id] }) else { continue }
            if upstreams[upstream.position].targets.contains(where: { $0.address == target.address }) {
                diagnostics.report(
                    reference.path,
                    reference.mark,
                    "duplicate target '\(target.address)' in upstream '\(upstreams[upstream.position].name)'"
                )
            }
            upstreams[upstream.position].targets.append(target)
        }
        // Kong's plugin cache key: one instance of a plugin per (route, service, consumer).
        var seen: [String: ConfigPath] = [:]
        for (index, plugin) in plugins.enumerated() {
            let key = "\(plugin.name)|\(plugin.route?.position ?? -1)|\(plugin.service?.position ?? -1)|\(plugin.consumer?.position ?? -1)"
            if let first = seen[key] {
                let path = pluginPaths[index]
                diagnostics.report(
                    path,
                    places[path] ?? nil,
                    "duplicate plugin '\(plugin.name)' for the same route, service and consumer as \(first)"
                )
            } else {
                seen[key] = pluginPaths[index]
            }
        }
        for index in services.indices {
            if let upstream = upstreams.firstIndex(where: { $0.name == services[index].host }) { services[index].upstream = EntityIndex(upstream) }
        }
    }
}

extension ConfigPath {
    /// `services[0]` for `services[0].name`: the entity a field belongs to.
    var parentDescription: String {
        let text = description
        guard let dot = text.lastIndex(of: ".") else { return text }
        return String(text[..<dot])
    }
}
