import Foundation

/// The `Cache-Control` directives (RFC 9111 §5.2, RFC 5861) a private client cache acts on.
struct CacheControl: Sendable, Hashable {
    var maxAge: Duration?
    var noStore = false
    var noCache = false
    var mustRevalidate = false
    var staleIfError: Duration?

    init(_ header: String?) {
        guard let header else { return }
        for directive in header.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = parts.first?.lowercased() else { continue }
            let seconds = parts.count > 1 ? Int64(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))) : nil
            switch name {
            case "max-age": maxAge = seconds.map { .seconds(max(0, $0)) }
            case "no-store": noStore = true
            case "no-cache": noCache = true
            case "must-revalidate", "proxy-revalidate": mustRevalidate = true
            case "stale-if-error": staleIfError = seconds.map { .seconds(max(0, $0)) }
            default: continue
            }
        }
    }
}
