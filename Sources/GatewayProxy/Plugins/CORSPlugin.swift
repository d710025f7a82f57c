import Foundation
import Gateway
import HTTPTypes
import Hummingbird

/// Kong's `cors`: answers a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) itself with
/// `200` and the `Access-Control-Allow-*` headers — or lets the upstream answer it (`preflight_continue`) — and adds
/// `Access-Control-Allow-Origin`, `-Allow-Credentials` and `-Expose-Headers` to every other response.
///
/// Origins as Kong matches them: none or `*` allows any (`*`, or the request's own origin when `credentials` is on,
/// since browsers refuse `*` with credentials); a single plain origin is sent as configured; otherwise the request's
/// origin, normalized (`scheme://host[:port]`, default ports dropped), must equal a plain entry or fully match a
/// regex entry (one with a character outside `A-Za-z0-9.:/-`), and is then echoed, with `Vary: Origin`.
struct CORSPlugin: GatewayPlugin {
    // `Regex<AnyRegexOutput>` is not declared Sendable; these are built once and never mutated, and matching keeps no
    // shared state (as the router's path regexes).
    enum Origin: @unchecked Sendable {
        case exact(String)
        case pattern(Regex<AnyRegexOutput>)
    }

    let configuration: CORSConfiguration
    let origins: [Origin]
    let allowsAll: Bool
    /// The one plain origin sent whatever the request's.
    let single: String?

    init(_ configuration: CORSConfiguration) throws {
        self.configuration = configuration
        let entries = configuration.origins ?? []
        allowsAll = entries.isEmpty || entries == ["*"]
        single = entries.count == 1 && !Self.looksLikeRegex(entries[0]) ? entries[0] : nil
        origins = try (allowsAll ? [] : entries).map { entry in
            guard Self.looksLikeRegex(entry) else { return .exact(Self.normalize(entry) ?? entry) }
            var pattern = Substring(entry)
            if pattern.hasPrefix("^") { pattern = pattern.dropFirst() }
            if pattern.hasSuffix("$") { pattern = pattern.dropLast() }
            do {
                return .pattern(try Regex(String(pattern)))
            } catch {
                throw GatewayPluginError(plugin: "cors", field: "config.origins", reason: "'\(entry)' is not a valid regex")
            }
        }
    }

    static func looksLikeRegex(_ origin: String) -> Bool {
        origin.unicodeScalars.contains { !(CharacterSet.alphanumerics.contains($0) && $0.isASCII) && !".:/-".unicodeScalars.contains($0) }
    }

    /// `scheme://host[:port]`, lower-cased, without the scheme's default port; nil when `origin` is not a URL.
    static func normalize(_ origin: String) -> String? {
        guard let components = URLComponents(string: origin), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
        let port = components.port.flatMap { $0 == defaultPort ? nil : ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)"
    }

    func access(_ context: inout PluginContext) async throws -> Response? {
        let fields = context.head.headerFields
        let origin = fields[.origin]
        let isPreflight = context.head.method == .options && origin != nil && fields[.accessControlRequestMethod] != nil
        if isPreflight {
            if configuration.preflightContinue { return nil }
            var headers = HTTPFields()
            allowOrigin(origin, into: &headers, vary: &context.varyOrigin)
            if let allowHeaders = configuration.headers, !allowHeaders.isEmpty {
                headers[.accessControlAllowHeaders] = allowHeaders.joined(separator: ",")
            } else if let requested = fields[.accessControlRequestHeaders] {
                headers[.accessControlAllowHeaders] = requested
            }
            headers[.accessControlAllowMethods] = configuration.methods.joined(separator: ",")
            if let maxAge = configuration.maxAge { headers[.accessControlMaxAge] = String(Int(maxAge)) }
            if configuration.privateNetwork, fields[.accessControlRequestPrivateNetwork] == "true" {
                headers[.accessControlAllowPrivateNetwork] = "true"
            }
            for field in headers { context.responseHeaders[field.name] = field.value }
            return Response(status: .ok, headers: [.contentLength: "0"])
        }
        guard origin != nil || configuration.allowOriginAbsent else { return nil }
        allowOrigin(origin, into: &context.responseHeaders, vary: &context.varyOrigin)
        if let exposed = configuration.exposedHeaders, !exposed.isEmpty {
            context.responseHeaders[.accessControlExposeHeaders] = exposed.joined(separator: ",")
        }
        return nil
    }

    /// `Access-Control-Allow-Origin` and `-Allow-Credentials` for a request from `origin`.
    private func allowOrigin(_ origin: String?, into headers: inout HTTPFields, vary: inout Bool) {
        if allowsAll {
            if configuration.credentials, let origin {
                // `*` cannot go with credentials: the request's origin instead.
                headers[.accessControlAllowOrigin] = origin
                headers[.accessControlAllowCredentials] = "true"
                vary = true
            } else {
                headers[.accessControlAllowOrigin] = "*"
            }
            return
        }
        if configuration.credentials { headers[.accessControlAllowCredentials] = "true" }
        if let single {
            headers[.accessControlAllowOrigin] = single
            vary = true
            return
        }
        guard let origin else { return }
        vary = true
        guard let normalized = Self.normalize(origin) else { return }
        let allowed = origins.contains { entry in
            switch entry {
            case .exact(let allowed): allowed == normalized
            case .pattern(let regex): (try? regex.wholeMatch(in: normalized)) != nil
            }
        }
        if allowed { headers[.accessControlAllowOrigin] = normalized }
    }
}

extension HTTPField.Name {
    static let accessControlRequestMethod = Self("Access-Control-Request-Method")!
    static let accessControlRequestHeaders = Self("Access-Control-Request-Headers")!
    static let accessControlRequestPrivateNetwork = Self("Access-Control-Request-Private-Network")!
    static let accessControlAllowOrigin = Self("Access-Control-Allow-Origin")!
    static let accessControlAllowCredentials = Self("Access-Control-Allow-Credentials")!
    static let accessControlAllowHeaders = Self("Access-Control-Allow-Headers")!
    static let accessControlAllowMethods = Self("Access-Control-Allow-Methods")!
    static let accessControlAllowPrivateNetwork = Self("Access-Control-Allow-Private-Network")!
    static let accessControlExposeHeaders = Self("Access-Control-Expose-Headers")!
    static let accessControlMaxAge = Self("Access-Control-Max-Age")!
}
