import Foundation
import InterchangeCore
import NIOPosix

/// Refuses webhook targets that would make the server attack its own network (server-side request forgery):
/// loopback, private (RFC 1918, unique-local), link-local (cloud metadata at 169.254.169.254), carrier-grade
/// NAT, multicast, unspecified and reserved addresses — unless configuration allows them.
///
/// A URL is checked when an endpoint is created (its literal host) and again before every delivery (every
/// address its name resolves to), so a name that later points inside is caught. Redirects are never followed
/// by the delivery client, so a public URL cannot bounce a delivery inward either. (A name that changes its
/// answer between the check and the connection — DNS rebinding within milliseconds — is a residual risk.)
public struct SSRFGuard: Sendable {
    /// Allow loopback and private targets (development, tests, on-premises receivers).
    public var allowPrivateNetworks: Bool
    /// Hosts allowed whatever they resolve to.
    public var allowedHosts: Set<String>

    public init(allowPrivateNetworks: Bool = false, allowedHosts: Set<String> = []) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
    }

    /// Checks the URL's form and, when its host is an address literal or a local name, the host itself.
    ///
    /// - Throws: ``ConfigurationError`` naming `url`.
    public func validate(url string: String) throws -> URL {
        guard let url = URL(string: string), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw ConfigurationError(field: "url", reason: "'\(string.prefix(200))' is not an absolute http(s) URL")
        }
        guard let host = url.host?.lowercased(), !host.isEmpty else {
            throw ConfigurationError(field: "url", reason: "'\(string.prefix(200))' has no host")
        }
        guard url.user == nil, url.password == nil else {
            throw ConfigurationError(field: "url", reason: "must not contain credentials; use the endpoint's signing secret")
        }
        if !isAllowed(host) {
            if host == "localhost" || host.hasSuffix(".localhost") || host.hasSuffix(".local") || host.hasSuffix(".internal") {
                throw ConfigurationError(field: "url", reason: "'\(host)' is a local name; targets on private networks are not allowed")
            }
            if let address = Self.parseAddress(host), Self.isPrivate(address) {
                throw ConfigurationError(field: "url", reason: "'\(host)' is a private, loopback or link-local address; not allowed")
            }
        }
        return url
    }

    /// Resolves `host` and throws ``SSRFViolation`` when any address it resolves to is not allowed.
    public func checkResolved(host: String) async throws {
        let host = host.lowercased()
        guard !isAllowed(host) else { return }
        let addresses = try await Self.resolve(host)
        for address in addresses where Self.isPrivate(address) {
            throw SSRFViolation(host: host, address: address.description)
        }
    }

    private func isAllowed(_ host: String) -> Bool {
        allowPrivateNetworks || allowedHosts.contains(host)
    }

    // MARK: Addresses

    enum Address: Hashable, CustomStringConvertible {
        case v4(UInt32)
        case v6([UInt8])

        var description: String {
            switch self {
            case .v4(let value): "\(value >> 24).\((value >> 16) & 255).\((value >> 8) & 255).\(value & 255)"
            case .v6(let bytes):
                stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
            }
        }
    }

    static func parseAddress(_ host: String) -> Address? {
        let trimmed = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var v4 = in_addr()
        if inet_pton(AF_INET, trimmed, &v4) == 1 { return .v4(UInt32(bigEndian: v4.s_addr)) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, trimmed, &v6) == 1 { return .v6(withUnsafeBytes(of: &v6) { Array($0) }) }
        return nil
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
            if b.allSatisfy({ $0 == 0 }) { return true }  // ::
            if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }  // ::1
            if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {  // ::ffff:a.b.c.d
                return isPrivate(.v4(UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15])))
            }
            if b[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local
            if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return true }  // fe80::/10 link-local
            if b[0] == 0xFF { return true }  // ff00::/8 multicast
            return false
        }
    }

    /// `getaddrinfo`, off the event loops (it blocks).
    static func resolve(_ host: String) async throws -> [Address] {
        if let literal = parseAddress(host) { return [literal] }
        return try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, nil, &hints, &result)
            guard status == 0, let first = result else {
                throw SSRFViolation(host: host, address: "unresolvable (\(String(cString: gai_strerror(status))))")
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
