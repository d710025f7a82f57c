import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Synchronization

/// Kong's `correlation-id`: the request keeps the id it came with in `header_name`, or gets one — `uuid`, or
/// `uuid#counter` (one UUID per gateway process and a counter), or `tracker` (client address, process id, counter and
/// time) — which goes upstream, into the gateway's own problem responses, and back to the client with `echo_downstream`.
final class CorrelationIDPlugin: GatewayPlugin {
    let configuration: CorrelationIDConfiguration
    private let field: HTTPField.Name
    private let prefix = UUID().uuidString
    private let counter = Atomic<Int>(0)

    init(_ configuration: CorrelationIDConfiguration) throws {
        guard let field = HTTPField.Name(configuration.headerName) else {
            throw GatewayPluginError(plugin: "correlation-id", field: "config.header_name", reason: "not a header name")
        }
        self.configuration = configuration
        self.field = field
    }

    func access(_ context: inout PluginContext) async throws -> Response? {
        let id: String
        if let given = context.head.headerFields[field], !given.isEmpty {
            id = given
        } else {
            let count = counter.add(1, ordering: .relaxed).newValue
            switch configuration.generator {
            case .uuid: id = UUID().uuidString
            case .uuidCounter: id = "\(prefix)#\(count)"
            case .tracker:
                id = "\(context.clientAddress ?? "unknown")-\(ProcessInfo.processInfo.processIdentifier)-\(count)-\(Date().timeIntervalSince1970)"
            }
            context.head.headerFields[field] = id
        }
        context.correlationID = id
        if configuration.echoDownstream { context.responseHeaders[field] = id }
        return nil
    }
}
