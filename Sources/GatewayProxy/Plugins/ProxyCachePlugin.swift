import Crypto
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Kong's `proxy-cache` with the memory strategy: answers a repeated request from a stored copy of the upstream's
/// response, in the access phase (after authentication and rate limiting, which still apply to every hit).
///
/// - A request is cacheable when its method is in `request_method` (and, with `cache_control`, it sends neither
///   `no-store`, `no-cache` nor `Authorization`); otherwise it passes with `X-Cache-Status: Bypass`.
/// - The key (sent as `X-Cache-Key`) is an MD5 of the consumer, the route, the method, the path (lower-cased with
///   `ignore_uri_case`), the query's parameters sorted (only `vary_query_params` when given) and the
///   `vary_headers`' values — Kong's recipe.
/// - A fresh entry is a `Hit` with `Age`. A missing one is a `Miss` and a stale one a `Refresh`: the request is
///   proxied and the response stored when its status is in `response_code`, its media type matches `content_type`
///   (`type/*` and `*/*` too; a listed parameter must match) and, with `cache_control`, it is not `private`,
///   `no-store` nor `no-cache`. Anything else is passed on as `Bypass`.
/// - Freshness is `cache_ttl` — or, with `cache_control`, the response's `s-maxage` / `max-age`, and the request's
///   `max-age`, `min-fresh` and `max-stale` (RFC 9111 §5.2.1). Entries are kept for `storage_ttl` when it is set.
/// - Memory is bounded (`memory.max_bytes`, least recently used evicted first); a response over
///   `memory.max_entry_bytes` is passed on, streamed, and not stored. The response streams to the client while it is
///   copied; it is stored only once it has ended whole.
final class ProxyCachePlugin: GatewayPlugin {
    let configuration: ProxyCacheConfiguration
    let cache: ResponseCache
    private let now: @Sendable () -> Date
    private let contentTypes: [MediaType]
    private let routes: [Route]
    private let consumers: [Consumer]

    init(_ configuration: ProxyCacheConfiguration, gateway: GatewayConfiguration, now: @escaping @Sendable () -> Date) throws {
        self.configuration = configuration
        self.cache = ResponseCache(maxBytes: configuration.maxBytes)
        self.now = now
        self.routes = gateway.routes
        self.consumers = gateway.consumers
        self.contentTypes = try configuration.contentType.map { value in
            guard let type = MediaType(value) else {
                throw GatewayPluginError(plugin: "proxy-cache", field: "config.content_type", reason: "'\(value)' is not a media type")
            }
            return type
        }
    }

    /// A request the cache could not answer: how to store its response.
    struct Pending: Sendable {
        let plugin: ProxyCachePlugin
        let key: String
        /// `Miss` or `Refresh`.
        let status: String
        /// A HEAD's answer has no body, and keeps the length its GET would have.
        let isHead: Bool
    }

    func access(_ context: inout PluginContext) async throws -> Response? {
        let request = CacheControl(context.head.headerFields[values: .cacheControl])
        guard configuration.requestMethod.contains(context.head.method.rawValue),
            !configuration.cacheControl || !(request.noStore || request.noCache || context.head.headerFields[.authorization] != nil)
        else {
            if configuration.responseHeaders.xCacheStatus { context.responseHeaders[.xCacheStatus] = "Bypass" }
            return nil
        }
        let key = key(context)
        let instant = now()
        guard let entry = cache.entry(key, at: instant) else {
            context.cache = Pending(plugin: self, key: key, status: "Miss", isHead: context.head.method == .head)
            return nil
        }
        let age = instant.timeIntervalSince(entry.storedAt)
        guard isFresh(entry, age: age, request: request) else {
            context.cache = Pending(plugin: self, key: key, status: "Refresh", isHead: context.head.method == .head)
            return nil
        }
        var headers = entry.headers
        if configuration.responseHeaders.age { headers[.age] = String(Int(max(0, age).rounded(.down))) }
        addCacheHeaders(&headers, status: "Hit", key: key)
        return Response(status: entry.status, headers: headers, body: ResponseBody(byteBuffer: entry.body))
    }

    private func isFresh(_ entry: ResponseCache.Entry, age: Double, request: CacheControl) -> Bool {
        guard configuration.cacheControl else { return age <= entry.ttl }
        if let maxAge = request.maxAge, age > maxAge { return false }
        if let minFresh = request.minFresh, entry.ttl - age < minFresh { return false }
        if age > entry.ttl { return request.maxStale.map { age - entry.ttl <= $0 } ?? false }
        return true
    }

    func addCacheHeaders(_ headers: inout HTTPFields, status: String, key: String?) {
        if configuration.responseHeaders.xCacheStatus { headers[.xCacheStatus] = status }
        if configuration.responseHeaders.xCacheKey, let key { headers[.xCacheKey] = key }
    }

    /// Kong's cache key: consumer, route, method, path, parameters and headers, hashed.
    private func key(_ context: PluginContext) -> String {
        let consumer = context.consumer.map { consumers[$0.position].id ?? consumers[$0.position].username ?? "\($0.position)" }
        let route = routes[context.route.position].id ?? routes[context.route.position].name ?? "\(context.route.position)"
        var path = String((context.head.path ?? "/").prefix { $0 != "?" })
        if configuration.ignoreURICase { path = path.lowercased() }
        let parameters = (context.query ?? "").split(separator: "&").compactMap { pair -> String? in
            let name = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let decoded = name.removingPercentEncoding ?? String(name)
            if let vary = configuration.varyQueryParams, !vary.contains(decoded) { return nil }
            return String(pair)
        }.sorted()
        let headers = (configuration.varyHeaders ?? []).sorted().map { name in
            "\(name.lowercased())=\(HTTPField.Name(name).map { context.head.headerFields[values: $0].joined(separator: ",") } ?? "")"
        }
        let material = [
            consumer ?? "default", route, context.head.method.rawValue, path, parameters.joined(separator: "&"), headers.joined(separator: "|"),
        ]
        .joined(separator: "\n")
        return Insecure.MD5.hash(data: Data(material.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// How long the upstream's response may be stored as fresh, or nil when it may not be stored.
    func freshness(status: Int, headers: HTTPFields) -> Double? {
        guard configuration.responseCode.contains(status) else { return nil }
        guard let contentType = headers[.contentType].flatMap(MediaType.init), contentTypes.contains(where: { $0.admits(contentType) }) else {
            return nil
        }
        if let length = headers[.contentLength].flatMap(Int.init), length > configuration.maxEntryBytes { return nil }
        guard configuration.cacheControl else { return Double(configuration.cacheTTL) }
        let control = CacheControl(headers[values: .cacheControl])
        guard !control.isPrivate, !control.noStore, !control.noCache else { return nil }
        let ttl = control.sharedMaxAge ?? control.maxAge ?? Double(configuration.cacheTTL)
        return ttl > 0 ? ttl : nil
    }

    /// Starts storing a response the upstream sent for `pending`: the headers it carries, or nil (`Bypass`) when it
    /// may not be stored.
    func capture(_ pending: Pending, status: HTTPResponse.Status, headers: inout HTTPFields) -> Capture? {
        guard let ttl = freshness(status: status.code, headers: headers) else {
            addCacheHeaders(&headers, status: "Bypass", key: nil)
            return nil
        }
        let stored = headers
        addCacheHeaders(&headers, status: pending.status, key: pending.key)
        return Capture(plugin: self, key: pending.key, status: status, headers: stored, ttl: ttl, isHead: pending.isHead)
    }

    /// A response being copied as it streams past; stored once it ends whole within `max_entry_bytes`.
    final class Capture: Sendable {
        private let plugin: ProxyCachePlugin
        private let key: String
        private let status: HTTPResponse.Status
        private let headers: HTTPFields
        private let ttl: Double
        private let isHead: Bool
        private let body = Mutex<ByteBuffer?>(ByteBuffer())

        init(plugin: ProxyCachePlugin, key: String, status: HTTPResponse.Status, headers: HTTPFields, ttl: Double, isHead: Bool) {
            (self.plugin, self.key, self.status, self.headers, self.ttl, self.isHead) = (plugin, key, status, headers, ttl, isHead)
        }

        func append(_ buffer: ByteBuffer) {
            let limit = plugin.configuration.maxEntryBytes
            body.withLock { body in
                guard body != nil else { return }
                if body!.readableBytes + buffer.readableBytes > limit {
                    body = nil  // too large: passed on, not stored
                } else {
                    body!.writeImmutableBuffer(buffer)
                }
            }
        }

        /// The body ended: store what was copied.
        func finish() {
            guard let whole = body.withLock({ $0 }) else { return }
            let storedAt = plugin.now()
            let keep = max(ttl, plugin.configuration.storageTTL.map(Double.init) ?? ttl)
            var headers = headers
            if !isHead { headers[.contentLength] = String(whole.readableBytes) }
            let entry = ResponseCache.Entry(
                status: status,
                headers: headers,
                body: whole,
                storedAt: storedAt,
                ttl: ttl,
                expires: storedAt.addingTimeInterval(keep)
            )
            plugin.cache.store(entry, under: key)
        }

        /// Stores a body already read whole.
        func store(_ whole: ByteBuffer) {
            append(whole)
            finish()
        }
    }
}

/// The `Cache-Control` directives proxy-cache reads (RFC 9111 §5.2), from every field line of it.
struct CacheControl {
    var noStore = false
    var noCache = false
    var isPrivate = false
    var maxAge: Double?
    var sharedMaxAge: Double?
    var minFresh: Double?
    var maxStale: Double?

    init(_ values: [String]) {
        for directive in values.flatMap({ $0.split(separator: ",") }) {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let name = parts[0].lowercased()
            let seconds = parts.count > 1 ? Double(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))) : nil
            switch name {
            case "no-store": noStore = true
            case "no-cache": noCache = true
            case "private": isPrivate = true
            case "max-age": maxAge = seconds ?? 0
            case "s-maxage": sharedMaxAge = seconds ?? 0
            case "min-fresh": minFresh = seconds ?? 0
            // A bare max-stale accepts any staleness.
            case "max-stale": maxStale = parts.count > 1 ? (seconds ?? 0) : .infinity
            default: continue
            }
        }
    }
}

/// A media type (`type/subtype; name=value`), lower-cased, as `content_type` lists and responses carry them.
struct MediaType: Hashable {
    let type: String
    let subtype: String
    let parameters: [String: String]

    init?(_ value: String) {
        let parts = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let essence = parts[0].lowercased().split(separator: "/", omittingEmptySubsequences: false)
        guard essence.count == 2, !essence[0].isEmpty, !essence[1].isEmpty else { return nil }
        (type, subtype) = (String(essence[0]), String(essence[1]))
        var parameters: [String: String] = [:]
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            parameters[pair[0].lowercased()] = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
        }
        self.parameters = parameters
    }

    /// Whether a response of `other` matches this configured type: `*` matches any type or subtype, and every
    /// parameter given here must be there with the same value.
    func admits(_ other: MediaType) -> Bool {
        (type == "*" || type == other.type) && (subtype == "*" || subtype == other.subtype)
            && parameters.allSatisfy { other.parameters[$0.key] == $0.value }
    }
}

extension HTTPField.Name {
    static let xCacheStatus = Self("X-Cache-Status")!
    static let xCacheKey = Self("X-Cache-Key")!
}
