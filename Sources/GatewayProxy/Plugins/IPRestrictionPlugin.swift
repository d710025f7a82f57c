import Foundation
import Gateway
import HTTPTypes
import Hummingbird

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Kong's `ip-restriction`: the client's address against `deny` and `allow` lists of addresses and CIDR blocks, IPv4
/// and IPv6 (an IPv4-mapped IPv6 address is judged as its IPv4 address). A denied address, or one missing from a
/// given `allow` list, gets `status` (403) with `message` ("IP address not allowed"); `deny` wins over `allow`.
struct IPRestrictionPlugin: GatewayPlugin {
    let allow: [CIDR]?
    let deny: [CIDR]
    let status: Int
    let message: String

    init(_ configuration: IPRestrictionConfiguration) throws {
        func blocks(_ entries: [String]?, field: String) throws -> [CIDR]? {
            try entries.map { entries in
                try entries.map { entry in
                    guard let block = CIDR(entry) else {
                        throw GatewayPluginError(plugin: "ip-restriction", field: field, reason: "'\(entry)' is not an address or CIDR block")
                    }
                    return block
                }
            }
        }
        allow = try blocks(configuration.allow, field: "config.allow")
        deny = try blocks(configuration.deny, field: "config.deny") ?? []
        status = configuration.status ?? 403
        message = configuration.message ?? "IP address not allowed"
    }

    func access(_ context: inout PluginContext) async throws -> Response? {
        let address = context.clientAddress.flatMap(IPAddress.init)
        let denied = address.map { address in deny.contains { $0.contains(address) } } ?? true
        let allowed = address.map { address in allow?.contains { $0.contains(address) } ?? true } ?? false
        guard denied || !allowed else { return nil }
        return GatewayProblem.response(status, "ip-not-allowed", "Forbidden", message, correlationID: context.correlationID)
    }
}

/// An IPv4 or IPv6 address as bytes (4 or 16).
struct IPAddress: Hashable, Sendable {
    let bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            let raw = withUnsafeBytes(of: &v6) { Array($0) }
            // ::ffff:a.b.c.d is the IPv4 address a.b.c.d.
            bytes = raw[0..<10].allSatisfy { $0 == 0 } && raw[10] == 0xff && raw[11] == 0xff ? Array(raw[12...]) : raw
        } else {
            return nil
        }
    }
}

/// An address block: `10.0.0.0/8`, `2001:db8::/32`, or one address (all its bits).
struct CIDR: Hashable, Sendable {
    let network: IPAddress
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let network = IPAddress(parts[0]) else { return nil }
        let bits = network.bytes.count * 8
        if parts.count == 2 {
            guard let prefix = Int(parts[1]), (0...bits).contains(prefix) else { return nil }
            self.prefix = prefix
        } else {
            self.prefix = bits
        }
        self.network = network
    }

    func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefix
        for (a, b) in zip(address.bytes, network.bytes) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }
}
