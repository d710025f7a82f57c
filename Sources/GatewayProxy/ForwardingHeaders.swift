import Foundation
import HTTPTypes

/// The header rules of a proxy hop (RFC 9110 §7.6): what is removed because it belongs to one connection, and what
/// is added so the upstream knows who asked.
enum ForwardingHeaders {
    /// Hop-by-hop fields (RFC 9110 §7.6.1, plus `Keep-Alive`, `Proxy-Connection` and `Proxy-Authorization`, which
    /// are hop-by-hop by practice). `Transfer-Encoding` is the connection's framing; each side frames its own body.
    static let hopByHop: [HTTPField.Name] = [
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade",
    ].map { HTTPField.Name($0)! }

    /// Removes the hop-by-hop fields, and every field the `Connection` header names. (Per request and response, so
    /// it removes in place and allocates nothing when there is nothing to remove.)
    static func removeHopByHop(_ fields: inout HTTPFields) {
        for value in fields[values: .connection] {
            for token in value.split(separator: ",") {
                if let name = HTTPField.Name(token.trimmingCharacters(in: .whitespaces)) { fields[name] = nil }
            }
        }
        for name in hopByHop where fields.contains(name) { fields[name] = nil }
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

    /// RFC 7230 token characters pass as they are; anything else (a port's `:`, say) is quoted.
    private static func quotedIfNeeded(_ value: String) -> String {
        value.utf8.allSatisfy { tokenBytes[Int($0)] } ? value : "\"\(value)\""
    }

    /// RFC 7230's `tchar`, by byte.
    private static let tokenBytes: [Bool] = (0..<256).map { byte in
        let scalar = Unicode.Scalar(UInt8(byte))
        return ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar)
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
