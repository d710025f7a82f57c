import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import InterchangeCore
import NIOCore

/// One of Kong's plugins at work: in the access phase (before the request is proxied) it may change the request,
/// identify the consumer, add response headers, or answer itself (an authentication failure, a limit). Plugins run
/// in Kong's order (highest `PRIORITY` first), each with its instance's configuration as ``PluginResolver`` picks
/// it; once a plugin identifies the consumer, the rest are picked again for that consumer.
protocol GatewayPlugin: Sendable {
    /// Runs before proxying; a response ends the request there (it is sent with the context's response headers).
    func access(_ context: inout PluginContext) async throws -> Response?
}

/// What the plugins of one request share.
struct PluginContext: Sendable {
    /// The request's method, path and header fields as they will be sent upstream (plugins may change them).
    var head: HTTPRequest
    /// The query string (without `?`) sent upstream.
    var query: String?
    var clientAddress: String?
    let route: EntityIndex<Route>
    let service: EntityIndex<Service>?
    /// Set by an authentication plugin.
    var consumer: EntityIndex<Consumer>?
    /// A consumer known to a credential service, not to the file (key-auth's `verify_url`): its id.
    var externalConsumer: String?
    /// The credential that authenticated the request (its id, or a digest of it), for `limit_by: credential`.
    var credential: String?
    /// Added to the response, whether it comes from the upstream or from a plugin (each replacing the upstream's).
    var responseHeaders = HTTPFields()
    /// The response depends on the request's `Origin` (cors): `Origin` is added to its `Vary`, keeping the upstream's.
    var varyOrigin = false
    /// The correlation id (correlation-id plugin), carried by the gateway's own problem responses.
    var correlationID: String?
    /// The largest request body to pass (request-size-limiting); a longer one is cut off with 413.
    var bodyLimit: Int?
    /// The logging plugins (prometheus, file-log) to call once the response has ended.
    var loggers: [any LoggingPlugin] = []
    /// The upstream path in place of the route's (request-transformer's `replace.uri`).
    var upstreamPath: String?
    /// Edits the whole request body before it is sent (request-transformer); the body is then read whole.
    var requestBodyTransform: (@Sendable (ByteBuffer) throws -> ByteBuffer)?
    /// Edits the response's headers and JSON body (response-transformer).
    var responseTransformer: ResponseTransformerPlugin?
    /// The upstream's response is to be stored by proxy-cache (a miss or a stale entry).
    var cache: ProxyCachePlugin.Pending?

    /// An authentication plugin identified `consumer`: it is set, with `X-Consumer-ID`, `-Username`, `-Custom-ID`
    /// and `X-Credential-Identifier` for the upstream (each removed when the consumer has none, so a client cannot
    /// send its own).
    mutating func identify(_ consumer: EntityIndex<Consumer>, credential: String?, in consumers: [Consumer]) {
        self.consumer = consumer
        self.credential = credential
        let entity = consumers[consumer.position]
        var fields = head.headerFields
        fields[.xConsumerID] = entity.id
        fields[.xConsumerUsername] = entity.username
        fields[.xConsumerCustomID] = entity.customID
        fields[.xCredentialIdentifier] = credential
        fields[.xAnonymousConsumer] = nil
        head.headerFields = fields
    }

    /// A credential service vouched for the request: `X-Consumer-ID` is its user id, `X-Credential-Identifier` the
    /// key's id (a client's own `X-Consumer-*` removed).
    mutating func identifyExternally(_ userID: String, credential: String) {
        externalConsumer = userID
        self.credential = credential
        var fields = head.headerFields
        fields[.xConsumerID] = userID
        fields[.xConsumerUsername] = nil
        fields[.xConsumerCustomID] = nil
        fields[.xCredentialIdentifier] = credential
        fields[.xAnonymousConsumer] = nil
        head.headerFields = fields
    }

    /// Authentication failed and the plugin names an `anonymous` consumer: the request goes on as that consumer,
    /// with `X-Anonymous-Consumer: true`.
    mutating func identifyAnonymously(_ consumer: EntityIndex<Consumer>, in consumers: [Consumer]) {
        identify(consumer, credential: nil, in: consumers)
        head.headerFields[.xAnonymousConsumer] = "true"
    }

    func queryParameter(_ name: String) -> String? {
        guard let query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0].removingPercentEncoding == name { return parts.count > 1 ? String(parts[1]).removingPercentEncoding : "" }
        }
        return nil
    }

    mutating func removeQueryParameter(_ name: String) {
        guard let query else { return }
        let kept = query.split(separator: "&").filter { pair in
            pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map { $0.removingPercentEncoding != name } ?? true
        }
        self.query = kept.isEmpty ? nil : kept.joined(separator: "&")
    }
}

extension GatewayConfiguration {
    /// An authentication plugin's `anonymous` consumer (by username or id), nil when the plugin names none.
    func anonymousConsumer(_ name: String?, plugin: String) throws -> EntityIndex<Consumer>? {
        guard let name else { return nil }
        guard let index = consumer(named: name) else {
            throw GatewayPluginError(plugin: plugin, field: "config.anonymous", reason: "no consumer '\(name)'")
        }
        return index
    }
}

/// The gateway's own answers: problem+json with a stable `type` per kind, and the correlation id when there is one.
enum GatewayProblem {
    static let typeBase = "https://interchange.dev/problems/"

    static func response(
        _ status: Int,
        _ type: String,
        _ title: String,
        _ detail: String,
        headers: HTTPFields = [:],
        correlationID: String? = nil
    ) -> Response {
        var extensions: [String: JSONValue] = [:]
        if let correlationID { extensions["correlationId"] = .string(correlationID) }
        let problem = ProblemDetails(status: status, title: title, detail: detail, type: typeBase + type, extensions: extensions)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(problem)) ?? Data()
        var fields = headers
        fields[.contentType] = ProblemDetails.mediaType
        return Response(status: HTTPResponse.Status(code: status), headers: fields, body: ResponseBody(byteBuffer: .init(bytes: body)))
    }
}
