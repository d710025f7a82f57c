import Foundation

/// The problem `type` URIs the dashboard answers with, read from `Resources/web/problem-types.json` — the file
/// the page fetches to choose its messages — so the server and the page name problems from one list.
///
/// ```json
/// {"base": "https://interchange.dev/problems/", "kinds": {"cityNotFound": "city-not-found", …}}
/// ```
///
/// ```swift
/// types.uri(\.cityNotFound)  // "https://interchange.dev/problems/city-not-found"
/// ```
///
/// `invalidParameter` and `notFound` are also what ServiceRuntime's `ProblemError` names (the input validation
/// throws it); a test holds the two to the same URIs.
struct DashboardProblemTypes: Sendable, Hashable, Decodable {
    struct Kinds: Sendable, Hashable, Decodable {
        var invalidParameter: String
        var cityNotFound: String
        var repositoryNotFound: String
        var notFound: String
        var upstreamRateLimited: String
        var upstreamUnavailable: String
        var upstreamTimeout: String
    }

    var base: String
    var kinds: Kinds

    static let fileName = "problem-types.json"

    func uri(_ kind: KeyPath<Kinds, String>) -> String { base + kinds[keyPath: kind] }

    /// Decodes the file's contents; the error names the file and what is wrong with it.
    init(json data: Data) throws {
        do {
            self = try JSONDecoder().decode(Self.self, from: data)
        } catch {
            throw Unreadable(reason: "\(error)")
        }
    }

    struct Unreadable: Error, CustomStringConvertible {
        var reason: String
        var description: String { "the dashboard's Resources/web/\(DashboardProblemTypes.fileName) cannot be read: \(reason)" }
    }
}
