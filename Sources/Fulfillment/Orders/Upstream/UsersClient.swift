import Foundation
import HTTPIntegration

/// Asks the users service (`GET /users/api/users/{id}`) whether a user exists: orders never reads users' tables.
struct UsersClient: Sendable {
    let http: ResilientHTTPClient
    /// `http://host:port`, without `/users/api`.
    let baseURL: @Sendable () -> String

    /// Whether the users service knows `userID` (a 404 is a clear no).
    ///
    /// - Throws: ``UpstreamError`` when it could not say.
    func exists(_ userID: String) async throws -> Bool {
        do {
            let response = try await http.get("\(baseURL())/users/api/users/\(userID)")
            if response.status.code == 404 { return false }
            let user = try response.decode(User.self)
            return user.id == userID
        } catch {
            throw UpstreamError(upstream: "users", error)
        }
    }

    private struct User: Decodable {
        var id: String
    }
}
