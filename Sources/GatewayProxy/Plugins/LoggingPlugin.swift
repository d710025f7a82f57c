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
    /// The request as received: its head (as HTTP/1.1 writes it) and the body bytes read.
    let requestBytes: Int
    /// The response as sent: its head and the body bytes written.
    let responseBytes: Int
}

extension HTTPRequest {
    /// The bytes of this head in HTTP/1.1: request line, header lines, blank line.
    var serializedSize: Int {
        let line = method.rawValue.utf8.count + (path ?? "/").utf8.count + 12  // two spaces, "HTTP/1.1", CRLF
        return headerFields.reduce(line + 2) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 4 }
    }
}

extension HTTPResponse {
    /// The bytes of this head in HTTP/1.1: status line, header lines, blank line.
    var serializedSize: Int {
        let line = 15 + status.reasonPhrase.utf8.count  // "HTTP/1.1 200 " and CRLF
        return headerFields.reduce(line + 2) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 4 }
    }
}
