import Foundation
import Hummingbird

/// The query string of a request decoded the way the upstream web servers decode it: `+` is a space,
/// percent escapes are UTF-8, and the first occurrence of a repeated name wins.
///
/// Hummingbird's `uri.queryParameters` leaves `+` alone, which would turn `q=New+York` into "New+York".
struct QueryParameters: Sendable {
    private var values: [String: String] = [:]
    /// The names in the order they first appear.
    private(set) var names: [String] = []

    init(_ query: String?) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            guard values[name] == nil else { continue }
            values[name] = parts.count > 1 ? Self.decode(parts[1]) : ""
            names.append(name)
        }
    }

    init(_ request: Request) {
        self.init(request.uri.query)
    }

    subscript(name: String) -> String? { values[name] }

    /// The value of `name`, or `nil` when absent or empty.
    func nonEmpty(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
