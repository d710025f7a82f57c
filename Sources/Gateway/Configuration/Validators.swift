#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Kong's value checks, each returning the problem in a sentence or nil when the value is good.
enum Validators {
    /// Kong's header names: `A-Z a-z 0-9 _ -`.
    static func headerName(_ name: String) -> String? {
        if !name.isEmpty, name.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) { return nil }
        return "bad header name '\(name)', allowed characters are A-Z, a-z, 0-9, '_', and '-'"
    }

    /// An HTTP method as Kong writes it: upper-case letters only.
    static func httpMethod(_ method: String) -> String? {
        if !method.isEmpty, method.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) { return nil }
        return "invalid value '\(method)': an HTTP method is upper-case letters only (GET, POST)"
    }

    /// Kong's `utf8_name` (service, route, plugin instance names): letters, digits and `. - _ ~`.
    static func name(_ name: String) -> String? {
        let ok =
            !name.isEmpty
            && name.unicodeScalars.allSatisfy { $0.value >= 0x80 || isAlphanumeric(UInt8($0.value)) || ".-_~".unicodeScalars.contains($0) }
        return ok ? nil : "invalid value '\(name)': the only accepted ascii characters are alphanumerics or ., -, _, and ~"
    }

    /// A host name (letters, digits, `-`, dot-separated labels) or an IP address, without a port.
    static func host(_ host: String) -> String? {
        if isIPv4(host) || isIPv6(host) { return nil }
        if host.contains(":") { return "invalid value '\(host)': must not have a port" }
        return hostName(host) ? nil : "invalid value '\(host)': not a host name or IP address"
    }

    static func hostName(_ host: String) -> Bool {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63
                && label.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        }
    }

    /// Kong's `path`: starts with `/`, no empty segments, percent-escapes well formed.
    static func path(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "should start with: /" }
        if path.contains("//") { return "must not have empty segments" }
        return percentEscapes(path)
    }

    static func percentEscapes(_ path: String) -> String? {
        let bytes = Array(path.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, isHexDigit(bytes[index + 1]), isHexDigit(bytes[index + 2]) else {
                    return "invalid url-encoded value: '\(String(decoding: bytes[index..<min(index + 3, bytes.count)], as: UTF8.self))'"
                }
                index += 3
            } else {
                index += 1
            }
        }
        return nil
    }

    /// An IPv4 or IPv6 address, or a CIDR range of either.
    static func ipOrCIDR(_ value: String) -> String? {
        let parts = value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let address = String(parts[0])
        let v4 = isIPv4(address)
        guard v4 || isIPv6(address) else { return "invalid ip or cidr range: '\(value)'" }
        if parts.count == 2 {
            guard let bits = Int(parts[1]), (0...(v4 ? 32 : 128)).contains(bits), parts[1].utf8.allSatisfy(isDigit) else {
                return "invalid ip or cidr range: '\(value)'"
            }
        }
        return nil
    }

    static func isIPv4(_ value: String) -> Bool {
        var address = in_addr()
        return value.withCString { inet_pton(AF_INET, $0, &address) } == 1
    }

    static func isIPv6(_ value: String) -> Bool {
        var address = in6_addr()
        return value.withCString { inet_pton(AF_INET6, $0, &address) } == 1
    }

    /// Whether `pattern` compiles as a regular expression (Swift's Regex, PCRE-like syntax).
    static func regex(_ pattern: String) -> String? {
        do {
            _ = try Regex(pattern)
            return nil
        } catch {
            return "invalid regex: '\(pattern)' (\(error))"
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
