import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import InterchangeCore
import NIOCore

/// Kong's `response-transformer`: the response's headers (every response, the gateway's own too) and, for a JSON
/// response from the upstream, its top-level members are edited — remove, rename, replace, add, append, in that
/// order; `json_types` types the values (`boolean`, `number`, else `string`). A JSON body to edit is read whole, up
/// to ``bodyLimit`` (a longer one is a 502); any other body passes untouched and streamed.
struct ResponseTransformerPlugin: GatewayPlugin {
    static let bodyLimit = 8 << 20

    let configuration: ResponseTransformerConfiguration
    let headers: Transformations.Edits
    let json: Transformations.Edits

    init(_ configuration: ResponseTransformerConfiguration) {
        self.configuration = configuration
        headers = Transformations.Edits(
            remove: configuration.remove.headers,
            rename: configuration.rename.headers,
            replace: configuration.replace.headers,
            add: configuration.add.headers,
            append: configuration.append.headers
        )
        json = Transformations.Edits(
            remove: configuration.remove.json,
            rename: configuration.rename.json,
            replace: configuration.replace.json,
            add: configuration.add.json,
            append: configuration.append.json
        )
    }

    func access(_ context: inout PluginContext) async throws -> Response? {
        context.responseTransformer = self
        return nil
    }

    func transformHeaders(_ fields: inout HTTPFields) {
        if !headers.isEmpty { Transformations.apply(headers, to: &fields) }
    }

    /// Whether the body of a response with these headers is to be edited.
    func editsBody(contentType: String?) -> Bool { !json.isEmpty && Transformations.isJSON(contentType) }

    func transformBody(_ buffer: ByteBuffer) throws -> ByteBuffer {
        var object = try JSONDecoder().decode([String: JSONValue].self, from: Data(buffer.readableBytesView))
        Transformations.apply(json, to: &object) { position, entry, section in
            let types: [ResponseTransformerConfiguration.JSONType]
            switch section {
            case .replace: types = configuration.replace.jsonTypes
            case .add: types = configuration.add.jsonTypes
            case .append: types = configuration.append.jsonTypes
            }
            switch position < types.count ? types[position] : .string {
            case .boolean: return .bool(entry.value == "true")
            case .number: return Double(entry.value).map(JSONValue.number) ?? .string(entry.value)
            case .string: return .string(entry.value)
            }
        }
        return ByteBuffer(bytes: try Transformations.encodeJSON(object))
    }
}
