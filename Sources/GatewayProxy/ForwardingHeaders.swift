import Foundation
import HTTPTypes

/// The header rules of a proxy hop (RFC 9110 §7.6): what is removed because it belongs to one connection, and what
/// is added so the upstream knows who asked.
enum ForwardingHeaders {
    /// Hop-by-hop fields (RFC 9110 §7.6.1, plus `Keep-Alive`, `Proxy-Connection` and `Proxy-Authorization`, which
    /// are hop-by-hop by practice). `Transfer-Encoding` is the connection's framing; each side frames its own body.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// Removes the hop-by-hop fields, and every field the `Connection` header names.
    static func removeHopByHop(_ fields: inout HTTPFields) {
        var named = hopByHop
        for value in fields[values: .connection] {
            for token in value.split(separator: ",") {
                named.insert(token.trimmingCharacters(in: .whitespaces).lowercased())
            }
        }
        fields = HTTPFields(fields.filter { !named.contains($0.name.canonicalName) })
    }

    /// Who asked and how: the request's view of the client, for the headers the upstream reads.
    struct Client: Sendable {
        /// The client's address as the gateway saw it (no port), nil when unknown.
        var address: String?
        /// `http` or `https`: how the client reached the gateway.
        var scheme: String
        /// The Host the client sent.
        var host: String?
        /// The gateway's port the client connected to.
        var port: Int?
    }

    /// Appends the client to `X-Forwarded-For` and `Forwarded` (RFC 7239) after what earlier proxies wrote, and
    /// sets `X-Forwarded-Proto`, `-Host`, `-Port`, `-Prefix` (the path the route stripped), `X-Real-IP` and `Via`.
    static func addForwarding(_ fields: inout HTTPFields, client: Client, strippedPrefix: String?) {
        if let address = client.address {
            let previous = fields[values: .xForwardedFor].joined(separator: ", ")
            fields[values: .xForwardedFor] = [previous.isEmpty ? address : "\(previous), \(address)"]
            fields[.xRealIP] = address
        }
        var element = [String]()
        if let address = client.address { element.append("for=\(forwardedNode(address))") }
        if let host = client.host { element.append("host=\(quotedIfNeeded(host))") }
        element.append("proto=\(client.scheme)")
        fields.append(HTTPField(name: .forwarded, value: element.joined(separator: ";")))
        fields[.xForwardedProto] = client.scheme
        if let host = client.host { fields[.xForwardedHost] = host }
        if let port = client.port { fields[.xForwardedPort] = String(port) }
        if let strippedPrefix, !strippedPrefix.isEmpty, strippedPrefix != "/" { fields[.xForwardedPrefix] = strippedPrefix }
        fields.append(HTTPField(name: .via, value: via))
    }

    static let via = "1.1 interchange-gateway"

    /// RFC 7239 §6: an IPv6 address is bracketed and quoted.
    private static func forwardedNode(_ address: String) -> String {
        address.contains(":") ? "\"[\(address)]\"" : address
    }

    private static func quotedIfNeeded(_ value: String) -> String {
        value.allSatisfy { $0.isLetter || $0.isNumber || "-._~!$&'*+^`|".contains($0) } ? value : "\"\(value)\""
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let xForwardedProto = Self("X-Forwarded-Proto")!
    static let xForwardedHost = Self("X-Forwarded-Host")!
    static let xForwardedPort = Self("X-Forwarded-Port")!
    static let xForwardedPrefix = Self("X-Forwarded-Prefix")!
    static let xRealIP = Self("X-Real-IP")!
    static let forwarded = Self("Forwarded")!
}
