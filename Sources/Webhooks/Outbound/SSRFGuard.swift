import Foundation
import InterchangeCore
import NIOCore
import NIOPosix

/// Refuses webhook targets that would make the server attack its own network (server-side request forgery):
/// loopback, private (RFC 1918, unique-local), link-local (cloud metadata at 169.254.169.254), carrier-grade
/// NAT, multicast, unspecified and reserved addresses — unless configuration allows them.
///
/// - A URL is checked when an endpoint is created: its host, when it is an address (in any form `inet_aton`
///   accepts — `2130706433`, `0x7f.1`, `0177.0.0.1` — or IPv6, with IPv4 embedded by mapping, compatibility,
///   NAT64 or 6to4 judged as that IPv4 address) or a local name (`localhost`, `*.local`, `*.internal`).
/// - Before every delivery the name is resolved and **every** address it resolves to is judged.
/// - The delivery engine connects through ``SSRFGuard/ConnectProxy``, which resolves the name once more, judges
///   every address and connects to the address it judged: what is checked is what is connected to, so a name
///   that changes its answer between the check and the connection (DNS rebinding) gains nothing.
/// - Redirects are never followed by the delivery client, so a public URL cannot bounce a delivery inward.
///
/// ```swift
/// let guard = SSRFGuard()
/// let url = try guard.validate(url: "https://hooks.example.com/in")   // ConfigurationError naming `url` if not allowed
/// try await guard.checkResolved(host: "hooks.example.com")          // SSRFViolation if any address is inside
/// ```
public struct SSRFGuard: Sendable {
    /// Allow loopback and private targets (development, tests, on-premises receivers).
    public var allowPrivateNetworks: Bool
    /// Hosts allowed whatever they resolve to.
    public var allowedHosts: Set<String>
    /// How host names become addresses.
    public var resolver: Resolver

    public init(allowPrivateNetworks: Bool = false, allowedHosts: Set<String> = [], resolver: Resolver = .system) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.allowedHosts = Set(allowedHosts.map { Self.normalized($0) })
        self.resolver = resolver
    }

    /// Turns a host name into the addresses to judge and connect to.
    public struct Resolver: Sendable {
        fileprivate enum Backing {
            case system
            case custom(@Sendable (String) async throws -> [String])
        }
        fileprivate let backing: Backing

        /// `getaddrinfo`, run off the event loops (it blocks).
        public static let system = Resolver(backing: .system)

        /// Answers for itself (tests, split-horizon set-ups): `resolve` returns the host's addresses as IP literals.
        ///
        /// ```swift
        /// let resolver = SSRFGuard.Resolver { host in host == "hooks.test" ? ["127.0.0.1"] : [] }
        /// ```
        public init(_ resolve: @escaping @Sendable (_ host: String) async throws -> [String]) {
            backing = .custom(resolve)
        }

        private init(backing: Backing) { self.backing = backing }
    }

    /// Checks the URL's form and, when its host is an address literal or a local name, the host itself.
    ///
    /// - Throws: ``ConfigurationError`` naming `url`.
    public func validate(url string: String) throws -> URL {
        let url = try HTTPURL.parse(string, rules: .target, field: "url")
        let rawHost = url.host ?? ""
        let host = Self.normalized(rawHost)
        if !isAllowed(host) {
            if host == "localhost" || host.hasSuffix(".localhost") || host.hasSuffix(".local") || host.hasSuffix(".internal") {
                throw ConfigurationError(field: "url", reason: "'\(host)' is a local name; targets on private networks are not allowed")
            }
            if let address = Self.parseAddress(host), Self.isPrivate(address) {
                throw ConfigurationError(
                    field: "url",
                    reason: "'\(rawHost)' is \(address), a private, loopback or link-local address; not allowed"
                )
            }
        }
        return url
    }

    /// Resolves `host` and throws ``SSRFViolation`` when any address it resolves to is not allowed.
    ///
    /// A host allowed by configuration is not resolved. A name that does not resolve throws
    /// ``HostResolutionError`` (a failed attempt worth retrying, not a forbidden target).
    public func checkResolved(host: String) async throws {
        guard !isAllowed(Self.normalized(host)) else { return }
        _ = try await addressesToConnect(host: host)
    }

    /// Resolves `host` once and returns its addresses, every one of them allowed; throws ``SSRFViolation`` when any
    /// is not (one inside address is enough: the connection could pick it).
    func addressesToConnect(host: String) async throws -> [Address] {
        let host = Self.normalized(host)
        let addresses = try await resolve(host)
        guard !isAllowed(host) else { return addresses }
        for address in addresses where Self.isPrivate(address) {
            throw SSRFViolation(host: host, address: address.description)
        }
        return addresses
    }

    /// Loopback and private targets are all allowed: there is nothing to guard, nor any reason to pin connections.
    var allowsEveryTarget: Bool { allowPrivateNetworks }

    private func isAllowed(_ host: String) -> Bool {
        allowPrivateNetworks || allowedHosts.contains(host)
    }

    /// Lowercased, without IPv6 brackets, a zone id (`%eth0`) or a final dot (`localhost.` is `localhost`).
    static func normalized(_ host: String) -> String {
        var host = Substring(host.lowercased())
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if let zone = host.firstIndex(of: "%"), host.contains(":") { host = host[..<zone] }
        if host.hasSuffix(".") { host = host.dropLast() }
        return String(host)
    }

    // MARK: Addresses

    enum Address: Hashable, CustomStringConvertible {
        case v4(UInt32)
        case v6([UInt8])

        var description: String {
            switch self {
            case .v4(let value): return "\(value >> 24).\((value >> 16) & 255).\((value >> 8) & 255).\(value & 255)"
            case .v6(let bytes):
                var raw = in6_addr()
                withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
                var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                guard inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count)) != nil else { return bytes.map { String($0) }.joined(separator: ".") }
                return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }

        func socketAddress(port: Int) throws -> SocketAddress {
            try SocketAddress(ipAddress: description, port: port)
        }
    }

    /// The address `host` spells, in any form `inet_aton` accepts for IPv4 or as IPv6; nil for a name.
    static func parseAddress(_ host: String) -> Address? {
        let host = normalized(host)
        if let v4 = parseIPv4LikeInetAton(host) { return .v4(v4) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return .v6(withUnsafeBytes(of: &v6) { Array($0) }) }
        return nil
    }

    /// IPv4 the way `inet_aton` (and so `getaddrinfo`, and so the HTTP client) reads it: one to four parts, each
    /// decimal, octal (leading `0`) or hexadecimal (`0x`); the last part fills the bytes that remain
    /// (`127.1` is 127.0.0.1, `2130706433` is 127.0.0.1).
    static func parseIPv4LikeInetAton(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt32] = []
        for part in parts {
            let digits: Substring
            let radix: UInt32
            if part.hasPrefix("0x") || part.hasPrefix("0X") {
                digits = part.dropFirst(2)
                radix = 16
            } else if part.count > 1 && part.hasPrefix("0") {
                digits = part.dropFirst()
                radix = 8
            } else {
                digits = part
                radix = 10
            }
            guard !digits.isEmpty || radix == 16 else { return nil }
            var value: UInt64 = 0
            for character in digits {
                guard let digit = character.hexDigitValue, UInt32(digit) < radix else { return nil }
                value = value * UInt64(radix) + UInt64(digit)
                guard value <= UInt64(UInt32.max) else { return nil }
            }
            values.append(UInt32(value))
        }
        // Every part but the last is one byte; the last fills the rest.
        let leading = values.dropLast()
        guard leading.allSatisfy({ $0 <= 255 }), let last = values.last else { return nil }
        let lastBits = 32 - 8 * leading.count
        guard lastBits == 32 || last < (UInt32(1) << lastBits) else { return nil }
        var address: UInt32 = 0
        for (index, byte) in leading.enumerated() { address |= byte << (24 - 8 * index) }
        return address | last
    }

    static func isPrivate(_ address: Address) -> Bool {
        switch address {
        case .v4(let a):
            func within(_ base: UInt32, _ bits: UInt32) -> Bool { bits == 0 || (a >> (32 - bits)) == (base >> (32 - bits)) }
            return within(0x0000_0000, 8)  // 0.0.0.0/8 "this network"
                || within(0x0A00_0000, 8)  // 10/8
                || within(0x6440_0000, 10)  // 100.64/10 carrier-grade NAT
                || within(0x7F00_0000, 8)  // 127/8 loopback
                || within(0xA9FE_0000, 16)  // 169.254/16 link-local, cloud metadata
                || within(0xAC10_0000, 12)  // 172.16/12
                || within(0xC000_0000, 24)  // 192.0.0/24 IETF protocol assignments
                || within(0xC0A8_0000, 16)  // 192.168/16
                || within(0xC612_0000, 15)  // 198.18/15 benchmarking
                || within(0xE000_0000, 4)  // 224/4 multicast
                || within(0xF000_0000, 4)  // 240/4 reserved, broadcast
        case .v6(let b):
            func embedded(at offset: Int, flipped: Bool = false) -> Bool {
                let value = UInt32(b[offset]) << 24 | UInt32(b[offset + 1]) << 16 | UInt32(b[offset + 2]) << 8 | UInt32(b[offset + 3])
                return isPrivate(.v4(flipped ? ~value : value))
            }
            func zero(_ range: Range<Int>) -> Bool { b[range].allSatisfy { $0 == 0 } }
            if zero(0..<16) { return true }  // ::
            // IPv4-compatible ::a.b.c.d (deprecated; ::1 is ::0.0.0.1, in 0/8) and IPv4-mapped ::ffff:a.b.c.d.
            if zero(0..<12) || (zero(0..<10) && b[10] == 0xFF && b[11] == 0xFF) { return embedded(at: 12) }
            if zero(0..<8) && b[8] == 0xFF && b[9] == 0xFF && zero(10..<12) { return embedded(at: 12) }  // ::ffff:0:a.b.c.d, SIIT
            if b[0..<4].elementsEqual([0x00, 0x64, 0xFF, 0x9B]) {
                if zero(4..<12) { return embedded(at: 12) }  // 64:ff9b::/96 NAT64
                if b[4] == 0 && b[5] == 1 { return true }  // 64:ff9b:1::/48 local-use NAT64 (RFC 8215)
            }
            if b[0] == 0x20 && b[1] == 0x02 { return embedded(at: 2) }  // 2002::/16 6to4
            if b[0..<4].elementsEqual([0x20, 0x01, 0x00, 0x00]) {  // 2001::/32 Teredo: server, then the client inverted
                return embedded(at: 4) || embedded(at: 12, flipped: true)
            }
            if b[0] == 0x01 && b[1] == 0x00 && zero(2..<8) { return true }  // 100::/64 discard-only
            if b[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local
            if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return true }  // fe80::/10 link-local
            if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return true }  // fec0::/10 site-local (deprecated, still routed inside)
            if b[0] == 0xFF { return true }  // ff00::/8 multicast
            return false
        }
    }

    private func resolve(_ host: String) async throws -> [Address] {
        if let literal = Self.parseAddress(host) { return [literal] }
        switch resolver.backing {
        case .system:
            return try await Self.systemResolve(host)
        case .custom(let resolve):
            let answers = try await resolve(host)
            guard !answers.isEmpty else { throw HostResolutionError(host: host, reason: "no addresses") }
            return try answers.map { answer in
                guard let address = Self.parseAddress(answer) else {
                    throw HostResolutionError(host: host, reason: "the resolver answered '\(answer)', which is not an IP address")
                }
                return address
            }
        }
    }

    /// `getaddrinfo`, off the event loops (it blocks).
    private static func systemResolve(_ host: String) async throws -> [Address] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, nil, &hints, &result)
            guard status == 0, let first = result else {
                throw HostResolutionError(host: host, reason: String(cString: gai_strerror(status)))
            }
            defer { freeaddrinfo(first) }
            var addresses: [Address] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let info = cursor {
                if info.pointee.ai_family == AF_INET, let raw = info.pointee.ai_addr {
                    let v4 = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                    addresses.append(.v4(UInt32(bigEndian: v4)))
                } else if info.pointee.ai_family == AF_INET6, let raw = info.pointee.ai_addr {
                    var v6 = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    addresses.append(.v6(withUnsafeBytes(of: &v6) { Array($0) }))
                }
                cursor = info.pointee.ai_next
            }
            guard !addresses.isEmpty else { throw HostResolutionError(host: host, reason: "no IPv4 or IPv6 addresses") }
            return addresses
        }
    }
}

/// A delivery target resolved to an address the ``SSRFGuard`` does not allow.
public struct SSRFViolation: Error, Hashable, CustomStringConvertible {
    public var host: String
    public var address: String
    public var description: String { "target \(host) resolves to \(address), which is not allowed (private, loopback or link-local)" }
}

/// A delivery target's name did not resolve (a failed attempt, retried like any other).
public struct HostResolutionError: Error, Hashable, CustomStringConvertible {
    public var host: String
    public var reason: String
    public var description: String { "cannot resolve \(host): \(reason)" }
}
