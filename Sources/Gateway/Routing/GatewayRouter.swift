/// A request as the router sees it.
public struct RouteRequest: Sendable {
    public var method: String
    /// The `Host` header (a port is allowed), nil when absent.
    public var host: String?
    /// The request target's path, optionally with `?query`.
    public var target: String
    public var headers: [(name: String, value: String)]

    public init(method: String, host: String?, target: String, headers: [(name: String, value: String)] = []) {
        self.method = method
        self.host = host
        self.target = target
        self.headers = headers
    }
}

/// The route chosen for a request and what it means for the upstream request.
public struct RouteMatch: Hashable, Sendable {
    public var route: EntityIndex<Route>
    public var service: EntityIndex<Service>?
    /// The route path that matched (`/orders` or `~/orders/\d+`), nil for a route without paths.
    public var matchedPath: String?
    /// The route host that matched (`*.example.com`), nil for a route without hosts.
    public var matchedHost: String?
    /// The path to send upstream (service path + request path per `strip_path`), escaped for the wire.
    public var upstreamPath: String
    /// The query string, without `?`, passed through unchanged.
    public var query: String?
    /// A regex path's captures: the whole match first, then each group (nil when it did not take part).
    public var captures: [String?]
    public var namedCaptures: [String: String]
}

/// Kong's route matching, compiled: picks the route for a request by method, host, path and headers with the
/// precedence of Kong's default router (see ``RoutePriority``), without scanning every route.
///
/// Routes are indexed by host (exact names in a dictionary, `*.example.com` by suffix, `example.*` by prefix, both
/// looked up label by label) and, per host, by path prefix in a character trie; only regex paths are tried one by
/// one (best first, stopping as soon as nothing left can beat the best match).
///
/// ```
/// let router = GatewayRouter(configuration)
/// if let match = router.match(RouteRequest(method: "GET", host: "api.example.com", target: "/orders/42?x=1")) {
///     configuration[match.route].name   // "orders"
///     match.upstreamPath                // "/v1/42" for a service path /v1 and strip_path
/// }
/// ```
public struct GatewayRouter: Sendable {
    /// What a match needs of the winning matcher and its route, side by side in one small value per matcher: in a
    /// large table, reading them from the matcher and the route was a cold cache line apiece.
    private struct MatchFacts: Sendable {
        let route: Int32
        /// The service's position, -1 for none.
        let service: Int32
        let stripPath: Bool
        let hasPaths: Bool
        let hasHosts: Bool
        /// The route lists one host name twice (with a port and without): which matched is looked up in its hosts.
        let looksUpHost: Bool
    }

    private let facts: [MatchFacts]
    /// Each route's hosts, read for a winner that matched by exact host (to name which).
    private let routeHosts: [[String]]
    private let servicePaths: [String?]
    private let matchers: [Matcher]
    /// Whether each matcher takes any method and headers: what a search reads for every candidate, apart from the
    /// matchers (whose sets and arrays it would retain, a cold cache line each). Matchers are numbered in priority
    /// order, so a search needs no priorities: a lower number wins.
    private let unconditional: [Bool]
    private let exactHosts: [String: Bucket]
    private let suffixHosts: [String: Bucket]
    private let prefixHosts: [String: Bucket]
    /// The byte lengths of the wildcard keys' host parts (`.example.com` of `*.example.com`, `example.` of
    /// `example.*`): a request's host is only looked up for the suffixes and prefixes of those lengths.
    private let suffixLengths: Set<Int>
    private let prefixLengths: Set<Int>
    private let anyHost: Bucket
    private let hasHeaderRules: Bool

    /// Compiles the routes of `configuration`; routes of disabled services are left out, as in Kong.
    public init(_ configuration: GatewayConfiguration) {
        self.routeHosts = configuration.routes.map(\.hosts)
        self.servicePaths = configuration.services.map(\.path)
        var matchers: [Matcher] = []
        for (position, route) in configuration.routes.enumerated() {
            if let service = route.service, !configuration[service].enabled { continue }
            matchers.append(contentsOf: Matcher.compile(route, position: position))
        }
        // A matcher's number is its rank: a lower number is tried first, so a search compares numbers, not
        // priorities (Kong's order is total: routes tie-break on their position, a route's matchers differ in kind or
        // prefix length).
        matchers.sort { $0.priority < $1.priority }
        var exact: [String: BucketBuilder] = [:]
        var suffix: [String: BucketBuilder] = [:]
        var prefix: [String: BucketBuilder] = [:]
        var any = BucketBuilder()
        var hostless: [Int] = []
        for (id, matcher) in matchers.enumerated() {
            let route = configuration.routes[matcher.route]
            if route.hosts.isEmpty {
                any.add(matcher, id: Int32(id))
                hostless.append(id)
                continue
            }
            for host in route.hosts {
                let (name, port) = splitPort(host)
                let portSuffix = port.map { ":\($0)" } ?? ""
                if name.hasPrefix("*.") {
                    suffix[String(name.dropFirst()) + portSuffix, default: BucketBuilder()].add(matcher, id: Int32(id))
                } else if name.hasSuffix(".*") {
                    prefix[String(name.dropLast()) + portSuffix, default: BucketBuilder()].add(matcher, id: Int32(id))
                } else {
                    exact[String(name) + portSuffix, default: BucketBuilder()].add(matcher, id: Int32(id), host: host)
                }
            }
        }
        // Host-less routes match every host: each exact host's bucket holds them too, so a request for a known host
        // walks one bucket's tries, not that bucket's and the host-less one's.
        for key in exact.keys {
            for id in hostless { exact[key]!.add(matchers[id], id: Int32(id)) }
        }
        self.matchers = matchers
        self.facts = matchers.map { matcher in
            let route = configuration.routes[matcher.route]
            return MatchFacts(
                route: Int32(matcher.route),
                service: route.service.map { Int32($0.position) } ?? -1,
                stripPath: route.stripPath,
                hasPaths: matcher.hasPaths,
                hasHosts: !route.hosts.isEmpty,
                looksUpHost: Set(route.hosts.map { splitPort($0).0 }).count < route.hosts.count
            )
        }
        self.unconditional = matchers.map { $0.methods.isEmpty && $0.headers.isEmpty }
        self.exactHosts = exact.mapValues { $0.build() }
        self.suffixHosts = suffix.mapValues { $0.build() }
        self.prefixHosts = prefix.mapValues { $0.build() }
        self.suffixLengths = Set(suffix.keys.map { splitPort($0).0.utf8.count })
        self.prefixLengths = Set(prefix.keys.map { splitPort($0).0.utf8.count })
        self.anyHost = any.build()
        self.hasHeaderRules = matchers.contains { !$0.headers.isEmpty }
    }

    /// The best route for `request`, or nil when none matches (Kong answers 404 "no Route matched").
    public func match(_ request: RouteRequest) -> RouteMatch? {
        let (rawPath, query) = splitQuery(request.target)
        let path = PathNormalization.normalize(rawPath)
        let context = Context(
            method: request.method,
            path: path,
            headers: hasHeaderRules ? request.headers.map { ($0.name.lowercased(), $0.value.lowercased()) } : []
        )
        var best: Candidate?
        var searchedHostless = false
        let host = request.host.map(normalizeHost)
        if let host {
            let (name, port) = splitPort(host)
            let withPort = port.map { "\(name):\($0)" }
            for key in [String(name), withPort].compactMap({ $0 }) {
                guard let bucket = exactHosts[key] else { continue }
                search(bucket, context, host: bucket.host, &best)
                searchedHostless = true  // an exact host's bucket holds the host-less routes too
            }
            if !suffixHosts.isEmpty || !prefixHosts.isEmpty {
                var index = name.startIndex
                while let dot = name[index...].firstIndex(of: ".") {
                    // `*.example.com` needs at least one character before `.example.com`; `example.*` one after.
                    if dot > name.startIndex, suffixLengths.contains(name.utf8.distance(from: dot, to: name.endIndex)) {
                        let suffix = name[dot...]
                        for key in [String(suffix), port.map { "\(suffix):\($0)" }].compactMap({ $0 }) {
                            if let bucket = suffixHosts[key] { search(bucket, context, host: "*" + key, &best) }
                        }
                    }
                    if name.index(after: dot) < name.endIndex, prefixLengths.contains(name.utf8.distance(from: name.startIndex, to: dot) + 1) {
                        let prefix = name[...dot]
                        for key in [String(prefix), port.map { "\(prefix):\($0)" }].compactMap({ $0 }) {
                            if let bucket = prefixHosts[key] { search(bucket, context, host: key + "*", &best) }
                        }
                    }
                    index = name.index(after: dot)
                }
            }
        }
        if !searchedHostless { search(anyHost, context, host: nil, &best) }
        guard let best else { return nil }
        return makeMatch(best, context, host: host, query: query)
    }

    // MARK: Search

    private struct Context {
        let method: String
        let path: String
        /// Lower-cased (name, value) pairs; empty when no route has header conditions.
        let headers: [(String, String)]
    }

    private struct Candidate {
        /// Where the path matched: a prefix of the path (its length), a regex, or no path condition.
        enum PathMatch {
            case prefix(length: Int)
            case regex(source: String, postfix: Substring)
            case none
        }

        /// The matcher's number, which is its rank: lower wins.
        let matcher: Int32
        let path: PathMatch
        let matchedHost: String?
        let captures: [String?]
        let namedCaptures: [String: String]
    }

    private func search(_ bucket: Bucket, _ context: Context, host: String?, _ best: inout Candidate?) {
        // Nothing in this bucket can beat what another bucket already found: skip the walk.
        if let best, let top = bucket.top, top >= best.matcher { return }
        let pathBytes = context.path.utf8
        // The closures below capture these, not `self`: capturing the router copied it — a retain of each of its
        // tables — at every prefix the walk passed.
        let (unconditional, matchers) = (self.unconditional, self.matchers)
        func accepts(_ id: Int32) -> Bool {
            // Read in place: `matchers[id].accepts` copied the matcher, a retain of its sets and arrays (cold lines).
            unconditional[Int(id)]
                || matchers.withUnsafeBufferPointer { ($0.baseAddress! + Int(id)).pointee.accepts(context.method, context.headers) }
        }
        bucket.prefixes.forEachPrefix(of: pathBytes) { length, list in
            for id in list {
                if let best, id >= best.matcher { break }
                guard accepts(id) else { continue }
                // Strings are made once, for the winner (makeMatch): a walk may pass many shorter prefixes.
                best = Candidate(
                    matcher: id,
                    path: .prefix(length: length),
                    matchedHost: host,
                    captures: [],
                    namedCaptures: [:]
                )
                break
            }
        }
        // Regex routes whose literal start (`/items/` of `~/items/\d+`) the path has; those without one always.
        var regexCandidates = bucket.unanchoredRegexes
        bucket.regexPrefixes.forEachPrefix(of: pathBytes) { _, list in regexCandidates.append(contentsOf: list) }
        if regexCandidates.count > bucket.unanchoredRegexes.count { regexCandidates.sort() }
        for id in regexCandidates {
            if let best, id >= best.matcher { break }
            guard accepts(id) else { continue }
            let matcher = matchers[Int(id)]
            for pattern in matcher.regexes {
                guard let found = pattern.regex.anchoredMatch(in: context.path) else { continue }
                best = Candidate(
                    matcher: id,
                    path: .regex(source: pattern.source, postfix: context.path[found.range.upperBound...]),
                    matchedHost: host,
                    captures: found.captures,
                    namedCaptures: found.named
                )
                break
            }
            if best?.matcher == id { break }
        }
        for id in bucket.pathless {
            if let best, id >= best.matcher { break }
            guard accepts(id) else { continue }
            best = Candidate(matcher: id, path: .none, matchedHost: host, captures: [], namedCaptures: [:])
            break
        }
    }

    private func makeMatch(_ candidate: Candidate, _ context: Context, host: String?, query: Substring?) -> RouteMatch {
        let facts = self.facts[Int(candidate.matcher)]
        let (position, hasPaths) = (Int(facts.route), facts.hasPaths)
        let service = facts.service >= 0 ? EntityIndex<Service>(Int(facts.service)) : nil
        let servicePath = service.flatMap { servicePaths[$0.position] } ?? "/"
        let (matchedPath, matchedPostfix): (String?, Substring) =
            switch candidate.path {
            case .prefix(let length): (String(context.path.utf8.prefix(length))!, Substring(context.path.utf8.dropFirst(length)))
            case .regex(let source, let postfix): (source, postfix)
            case .none: (nil, "")
            }
        let postfix = hasPaths ? UpstreamPath.sanitize(matchedPostfix) : Substring(context.path)
        let upstream = UpstreamPath.build(
            servicePath: servicePath,
            requestPath: context.path,
            postfix: postfix,
            stripPath: facts.stripPath && hasPaths
        )
        // The bucket's host, unless the route has none (a host-less route in an exact host's bucket) or the bucket
        // could not say (see ``Bucket/host``): then the route's hosts are read — in a large table a cold line and a
        // retain, a sixth of a match at 10 000 routes.
        var matchedHost = facts.hasHosts && !facts.looksUpHost ? candidate.matchedHost : nil
        if matchedHost == nil, facts.hasHosts, let host {
            let name = splitPort(host).0
            matchedHost = routeHosts[position].first { $0 == host || $0.utf8.elementsEqual(name.utf8) }
        }
        return RouteMatch(
            route: EntityIndex(position),
            service: service,
            matchedPath: matchedPath,
            matchedHost: matchedHost,
            upstreamPath: PathNormalization.escapeForWire(upstream),
            query: query.map(String.init),
            captures: candidate.captures,
            namedCaptures: candidate.namedCaptures
        )
    }
}

// MARK: Compiled pieces

/// One route, or one path group of it (Kong splits a route whose paths differ in kind or length, so each part
/// sorts by its own prefix length).
private struct Matcher: Sendable {
    let route: Int
    let priority: RoutePriority
    let methods: Set<String>
    let headers: [HeaderRule]
    let prefixes: [String]
    let regexes: [PathRegex]
    let hasPaths: Bool

    static func compile(_ route: Route, position: Int) -> [Matcher] {
        let headers = route.headers.sorted { $0.key < $1.key }.map { HeaderRule(name: $0.key, values: $0.value) }
        let conditionCount = [!route.methods.isEmpty, !route.hosts.isEmpty, !route.headers.isEmpty, !route.paths.isEmpty].filter { $0 }.count
        let plainHostsOnly = !route.hosts.isEmpty && !route.hosts.contains { $0.contains("*") }
        func matcher(prefixes: [String], regexes: [PathRegex], length: Int) -> Matcher {
            Matcher(
                route: position,
                priority: RoutePriority(
                    conditionCount: conditionCount,
                    plainHostsOnly: plainHostsOnly,
                    headerCount: headers.count,
                    isRegex: !regexes.isEmpty,
                    regexPriority: regexes.isEmpty ? 0 : route.regexPriority,
                    prefixLength: length,
                    declarationOrder: position
                ),
                methods: Set(route.methods),
                headers: headers,
                prefixes: prefixes,
                regexes: regexes,
                hasPaths: !route.paths.isEmpty
            )
        }
        if route.paths.isEmpty { return [matcher(prefixes: [], regexes: [], length: 0)] }
        var result: [Matcher] = []
        let regexes = route.paths.filter { $0.hasPrefix("~") }.compactMap(PathRegex.init)
        if !regexes.isEmpty { result.append(matcher(prefixes: [], regexes: regexes, length: 0)) }
        let prefixes = route.paths.filter { !$0.hasPrefix("~") }
        var lengths: [Int] = []
        for prefix in prefixes where !lengths.contains(prefix.utf8.count) { lengths.append(prefix.utf8.count) }
        for length in lengths {
            result.append(matcher(prefixes: prefixes.filter { $0.utf8.count == length }, regexes: [], length: length))
        }
        return result
    }

    func accepts(_ method: String, _ requestHeaders: [(String, String)]) -> Bool {
        if !methods.isEmpty, !methods.contains(method) { return false }
        for rule in headers where !rule.matches(requestHeaders) { return false }
        return true
    }
}

/// A route's header condition: the request must carry the header with one of the values (case-insensitive), or a
/// value matching one of the `~*` regexes.
private struct HeaderRule: Sendable {
    let name: String
    let values: Set<String>
    let patterns: [CaseInsensitivePattern]

    init(name: String, values: [String]) {
        self.name = name
        self.values = Set(values.filter { !$0.hasPrefix("~*") }.map { $0.lowercased() })
        self.patterns = values.filter { $0.hasPrefix("~*") }.compactMap { CaseInsensitivePattern(String($0.dropFirst(2))) }
    }

    func matches(_ requestHeaders: [(String, String)]) -> Bool {
        requestHeaders.contains { header in
            header.0 == name && (values.contains(header.1) || patterns.contains { $0.matches(header.1) })
        }
    }
}

/// A compiled `~` path: matched from the start of the normalized path, as Kong anchors it.
private struct PathRegex: @unchecked Sendable {
    // `Regex<AnyRegexOutput>` is not declared Sendable; this one is built once, never mutated, and matching does not
    // mutate it (each match creates its own state), so sharing it across threads is safe.
    let source: String
    let regex: Regex<AnyRegexOutput>

    init?(_ path: String) {
        guard let regex = try? Regex(String(path.dropFirst())) else { return nil }
        self.source = path
        self.regex = regex
    }
}

private struct CaseInsensitivePattern: @unchecked Sendable {
    // As for PathRegex: built once, immutable, matching keeps no shared state.
    let regex: Regex<AnyRegexOutput>

    init?(_ pattern: String) {
        guard let regex = try? Regex(pattern).ignoresCase() else { return nil }
        self.regex = regex
    }

    func matches(_ value: String) -> Bool { (try? regex.firstMatch(in: value)) != nil }
}

extension Regex<AnyRegexOutput> {
    fileprivate func anchoredMatch(in path: String) -> (range: Range<String.Index>, captures: [String?], named: [String: String])? {
        guard let match = try? self.prefixMatch(in: path) else { return nil }
        var captures: [String?] = []
        var named: [String: String] = [:]
        for element in match.output {
            let text = element.substring.map(String.init)
            captures.append(text)
            if let name = element.name, let text { named[name] = text }
        }
        return (match.range, captures, named)
    }
}

/// A class, so that looking one up retains one reference rather than each of its arrays.
private final class Bucket: Sendable {
    init(
        prefixes: CompiledPathTrie,
        regexPrefixes: CompiledPathTrie,
        unanchoredRegexes: [Int32],
        pathless: [Int32],
        top: Int32?,
        host: String?
    ) {
        self.prefixes = prefixes
        self.regexPrefixes = regexPrefixes
        self.unanchoredRegexes = unanchoredRegexes
        self.pathless = pathless
        self.top = top
        self.host = host
    }

    let prefixes: CompiledPathTrie
    /// Regex matchers by the literal text every match starts with.
    let regexPrefixes: CompiledPathTrie
    /// Regex matchers with no literal start (tried for every path), best first.
    let unanchoredRegexes: [Int32]
    let pathless: [Int32]
    /// The best (lowest-numbered) matcher here, nil for an empty bucket.
    let top: Int32?
    /// An exact host's bucket: the routes' spelling of its host, which a match by it reports (nil when two routes
    /// spell it differently: `[::1]:8080` and `::1:8080`).
    let host: String?
}

private struct BucketBuilder {
    var prefixes = PathTrie()
    var regexPrefixes = PathTrie()
    var unanchoredRegexes: [Int32] = []
    var pathless: [Int32] = []
    var top: Int32?
    var hosts: Set<String> = []

    mutating func add(_ matcher: Matcher, id: Int32, host: String? = nil) {
        top = min(top ?? id, id)
        if let host { hosts.insert(host) }
        if !matcher.hasPaths {
            pathless.append(id)
        } else if !matcher.regexes.isEmpty {
            let literals = matcher.regexes.map { literalPrefix(of: String($0.source.dropFirst())) }
            if literals.contains(where: \.isEmpty) {
                unanchoredRegexes.append(id)
            } else {
                for literal in literals { regexPrefixes.insert(literal, matcher: id) }
            }
        } else {
            for prefix in matcher.prefixes { prefixes.insert(prefix, matcher: id) }
        }
    }

    /// Every list best (lowest-numbered) first.
    func build() -> Bucket {
        Bucket(
            prefixes: prefixes.compiled(),
            regexPrefixes: regexPrefixes.compiled(),
            unanchoredRegexes: unanchoredRegexes.sorted(),
            pathless: pathless.sorted(),
            top: top,
            host: hosts.count == 1 ? hosts.first : nil
        )
    }
}

/// The literal text every match of `pattern` (anchored at the start) begins with: characters up to the first regex
/// syntax, minus the last one when a quantifier follows it. Empty — "try it for every path" — when the pattern has
/// an alternation anywhere, so that the pre-filter can only skip regexes that cannot match. (Inline flags can only
/// come after the literal text, where they do not change it.)
private func literalPrefix(of pattern: String) -> String {
    if pattern.contains("|") { return "" }
    let special = Set("\\^$.|?*+()[]{}")
    var literal: [Character] = []
    var characters = pattern.makeIterator()
    while let character = characters.next() {
        if special.contains(character) {
            if "?*{".contains(character), !literal.isEmpty { literal.removeLast() }
            break
        }
        literal.append(character)
    }
    return String(literal)
}

/// `host:port` → (host, port); IPv6 literals in brackets keep their brackets off. Works on UTF-8 code units:
/// `Character` searches would pay for grapheme breaking on every request.
private func splitPort(_ host: String) -> (Substring, Substring?) {
    let utf8 = host.utf8
    if utf8.first == UInt8(ascii: "[") {
        guard let close = utf8.firstIndex(of: UInt8(ascii: "]")) else { return (host[...], nil) }
        let name = host[utf8.index(after: utf8.startIndex)..<close]
        let rest = host[utf8.index(after: close)...]
        return (name, rest.utf8.first == UInt8(ascii: ":") ? rest.dropFirst() : nil)
    }
    guard let colon = utf8.lastIndex(of: UInt8(ascii: ":")) else { return (host[...], nil) }
    if utf8[..<colon].contains(UInt8(ascii: ":")) { return (host[...], nil) }  // a bare IPv6 address
    return (host[..<colon], host[utf8.index(after: colon)...])
}

private func normalizeHost(_ host: String) -> String {
    let hasUpperCase = host.utf8.contains { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    var lowered = hasUpperCase ? host.lowercased() : host
    if lowered.utf8.last == UInt8(ascii: ".") { lowered.removeLast() }
    let (name, port) = splitPort(lowered)
    if name.utf8.last == UInt8(ascii: "."), let port { return "\(name.dropLast()):\(port)" }
    return lowered
}

private func splitQuery(_ target: String) -> (Substring, Substring?) {
    guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (target[...], nil) }
    return (target[..<mark], target[target.utf8.index(after: mark)...])
}
