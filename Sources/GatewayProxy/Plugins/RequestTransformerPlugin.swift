import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import InterchangeCore
import NIOCore

/// Kong's `request-transformer`: before the request goes upstream, its method (`http_method`), path (`replace.uri`),
/// headers, query string and body are edited — remove, rename, replace, add, append, in that order. Body edits apply
/// to JSON and `application/x-www-form-urlencoded` bodies (values as strings), which are then read whole, up to
/// ``bodyLimit``; any other body passes untouched and streamed.
struct RequestTransformerPlugin: GatewayPlugin {
    /// The largest body read to be edited; a longer one is refused with 413.
    static let bodyLimit = 8 << 20

    let configuration: RequestTransformerConfiguration
    let headers: Transformations.Edits
    let query: Transformations.Edits
    let body: Transformations.Edits

    init(_ configuration: RequestTransformerConfiguration) {
        self.configuration = configuration
        headers = Transformations.Edits(
            remove: configuration.remove.headers,
            rename: configuration.rename.headers,
            replace: configuration.replace.headers,
            add: configuration.add.headers,
            append: configuration.append.headers
        )
        query = Transformations.Edits(
            remove: configuration.remove.querystring,
            rename: configuration.rename.querystring,
            replace: configuration.replace.querystring,
            add: configuration.add.querystring,
            append: configuration.append.querystring
        )
        body = Transformations.Edits(
            remove: configuration.remove.body,
            rename: configuration.rename.body,
            replace: configuration.replace.body,
            add: configuration.add.body,
            append: configuration.append.body
        )
    }

    func access(_ context: inout PluginContext) async throws -> Response? {
        if let method = configuration.httpMethod { context.head.method = HTTPRequest.Method(method) ?? context.head.method }
        if let uri = configuration.replaceURI { context.upstreamPath = uri }
        if !headers.isEmpty { Transformations.apply(headers, to: &context.head.headerFields) }
        if !query.isEmpty {
            var pairs = context.query.map { Transformations.pairs($0, plusIsSpace: false) } ?? []
            Transformations.apply(query, to: &pairs)
            context.query = pairs.isEmpty ? nil : Transformations.encode(pairs)
        }
        let contentType = context.head.headerFields[.contentType]
        if !body.isEmpty, Transformations.isJSON(contentType) || Transformations.isForm(contentType) {
            let edits = body
            let json = Transformations.isJSON(contentType)
            context.requestBodyTransform = { buffer in try Self.transform(buffer, json: json, edits: edits) }
        }
        return nil
    }

    /// Thrown when a JSON body to be edited is not a JSON object.
    struct NotAJSONObject: Error {}

    static func transform(_ buffer: ByteBuffer, json: Bool, edits: Transformations.Edits) throws -> ByteBuffer {
        if json {
            // An empty body is an empty object to add to.
            var object =
                buffer.readableBytes == 0
                ? [:] : try JSONDecoder().decode([String: JSONValue].self, from: Data(buffer.readableBytesView))
            Transformations.apply(edits, to: &object) { _, entry, _ in .string(entry.value) }
            return ByteBuffer(bytes: try Transformations.encodeJSON(object))
        }
        var pairs = Transformations.pairs(String(buffer: buffer), plusIsSpace: true)
        Transformations.apply(edits, to: &pairs)
        return ByteBuffer(string: Transformations.encode(pairs))
    }
}
