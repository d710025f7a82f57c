import Foundation
import Gateway
import HTTPTypes
import Hummingbird

/// A plugin with Kong's log phase: it runs once the response has ended — for a request another plugin answered
/// too — with what the request was and how it ended.
protocol LoggingPlugin: GatewayPlugin {
    func log(_ request: RequestLog)
}

extension LoggingPlugin {
    /// A logging plugin's access phase only asks to be called at the end.
    func access(_ context: inout PluginContext) async throws -> Response? {
        context.loggers.append(self)
        return nil
    }
}

/// One request as the log phase sees it.
struct RequestLog: Sendable {
    /// The request as the client sent it (before any plugin changed it).
    let request: HTTPRequest
    let clientAddress: String?
    let startedAt: Date
    let route: Route
    let service: Service
    let consumer: Consumer?
    /// The path and query sent upstream (nil when nothing was).
    let upstreamURI: String?
    let status: Int
    let responseHeaders: HTTPFields
    let source: GatewayMetrics.Source
    let latency: Duration
}
