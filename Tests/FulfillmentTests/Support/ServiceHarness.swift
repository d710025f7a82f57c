import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ServiceRuntime
import Testing

/// A router with ``ProblemMiddleware`` in front (as `interchange serve` has) and one component's routes.
func problemRouter(_ addRoutes: (Router<BasicRequestContext>) throws -> Void) rethrows -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ProblemMiddleware())
    try addRoutes(router)
    return router
}

extension TestClientProtocol {
    /// Sends `json` (any JSON text) and hands back the status and the parsed body.
    @discardableResult
    func json(
        _ method: HTTPRequest.Method,
        _ uri: String,
        _ json: String? = nil
    ) async throws -> (status: HTTPResponse.Status, body: Any?, contentType: String?) {
        var headers = HTTPFields()
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            let bytes = Data(buffer: response.body)
            let body = bytes.isEmpty ? nil : try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])
            return (response.status, body, response.headers[.contentType])
        }
    }
}

/// `value` as a JSON object, or a test failure.
func object(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    try #require(value as? [String: Any], "not a JSON object: \(String(describing: value))", sourceLocation: sourceLocation)
}

/// `value` as a JSON array of objects, or a test failure.
func objects(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
    try #require(value as? [[String: Any]], "not a JSON array of objects: \(String(describing: value))", sourceLocation: sourceLocation)
}

/// Polls `condition` until it holds or `timeout` passes; true when it held (assert on the result).
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}
