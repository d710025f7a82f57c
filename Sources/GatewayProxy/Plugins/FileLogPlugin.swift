import Foundation
import Gateway
import HTTPTypes
import InterchangeCore
import Synchronization

/// Kong's `file-log`: a JSON line per request (Kong's serializer's shape: `request`, `response`, `latencies`,
/// `client_ip`, `started_at`, `service`, `route`, `consumer`, `upstream_uri`, `source`) appended to `path` once
/// its response has ended. Credentials never reach the file: `Authorization`, `Proxy-Authorization`, `Cookie` and
/// `Set-Cookie`, and every header and query parameter an authentication plugin of this configuration reads a key
/// or token from, are logged as `REDACTED`.
final class FileLogPlugin: LoggingPlugin, Sendable {
    static let redacted = "REDACTED"

    let configuration: FileLogConfiguration
    /// Lower-cased header names and query parameter names whose values are credentials.
    let secretHeaders: Set<String>
    let secretQuery: Set<String>
    private let file: Mutex<FileHandle?>

    init(_ configuration: FileLogConfiguration, gateway: GatewayConfiguration) throws {
        self.configuration = configuration
        var headers: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]
        var query: Set<String> = []
        for plugin in gateway.plugins {
            switch plugin.configuration {
            case .keyAuth(let keyAuth):
                headers.formUnion(keyAuth.keyNames.map { $0.lowercased() })
                query.formUnion(keyAuth.keyNames)
            case .jwt(let jwt):
                headers.formUnion(jwt.headerNames.map { $0.lowercased() })
                query.formUnion(jwt.uriParamNames)
            default: break
            }
        }
        secretHeaders = headers
        secretQuery = query
        file = Mutex(configuration.reopen ? nil : try Self.open(configuration.path))
    }

    private static func open(_ path: String) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw GatewayPluginError(plugin: "file-log", field: "config.path", reason: "cannot create \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw GatewayPluginError(plugin: "file-log", field: "config.path", reason: "cannot open \(path) for writing")
        }
        handle.seekToEndOfFile()
        return handle
    }

    func log(_ entry: RequestLog) {
        var line = (try? Self.encoder.encode(serialize(entry))) ?? Data()
        line.append(0x0A)
        file.withLock { handle in
            if let handle {
                handle.write(line)
            } else if let reopened = try? Self.open(configuration.path) {
                reopened.write(line)
                try? reopened.close()
            }
        }
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func serialize(_ entry: RequestLog) -> JSONValue {
        let head = entry.request
        let path = head.path ?? "/"
        let query = path.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init)
        var arguments: [String: JSONValue] = [:]
        for (name, value) in Transformations.pairs(query ?? "", plusIsSpace: true) {
            arguments[name] = .string(secretQuery.contains(name) ? Self.redacted : value)
        }
        let uri = query == nil ? path : String(path.prefix { $0 != "?" }) + "?" + redactedQuery(query!)
        let milliseconds = Double(entry.latency.components.seconds) * 1000 + Double(entry.latency.components.attoseconds) / 1e15
        var object: [String: JSONValue] = [
            "request": .object([
                "method": .string(head.method.rawValue),
                "uri": .string(uri),
                "url": .string("\(head.scheme ?? "http")://\(head.authority ?? "")\(uri)"),
                // Kong's request_length and bytes_sent: heads and bodies as they passed.
                "size": .number(Double(entry.requestBytes)),
                "querystring": .object(arguments),
                "headers": headers(head.headerFields),
            ]),
            "response": .object([
                "status": .number(Double(entry.status)),
                "size": .number(Double(entry.responseBytes)),
                "headers": headers(entry.responseHeaders),
            ]),
            "latencies": .object(["request": .number((milliseconds * 1000).rounded() / 1000)]),
            "client_ip": entry.clientAddress.map(JSONValue.string) ?? .null,
            "started_at": .number((entry.startedAt.timeIntervalSince1970 * 1000).rounded()),
            "route": .object(["id": entry.route.id.map(JSONValue.string) ?? .null, "name": entry.route.name.map(JSONValue.string) ?? .null]),
            "service": .object([
                "id": entry.service.id.map(JSONValue.string) ?? .null, "name": entry.service.name.map(JSONValue.string) ?? .null,
                "host": .string(entry.service.host), "port": .number(Double(entry.service.port)),
            ]),
            "upstream_uri": entry.upstreamURI.map { .string(redactedURI($0)) } ?? .null,
            "source": .string(entry.source == .service ? "upstream" : "kong"),
        ]
        if let consumer = entry.consumer {
            object["consumer"] = .object([
                "id": consumer.id.map(JSONValue.string) ?? .null, "username": consumer.username.map(JSONValue.string) ?? .null,
                "custom_id": consumer.customID.map(JSONValue.string) ?? .null,
            ])
        }
        return .object(object)
    }

    /// Header fields by lower-cased name (repeated ones as an array), credentials redacted.
    private func headers(_ fields: HTTPFields) -> JSONValue {
        var result: [String: [String]] = [:]
        for field in fields {
            let name = field.name.canonicalName
            result[name, default: []].append(secretHeaders.contains(name) ? Self.redacted : field.value)
        }
        return .object(result.mapValues { $0.count == 1 ? .string($0[0]) : .array($0.map(JSONValue.string)) })
    }

    private func redactedQuery(_ query: String) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { pair in
            let name = pair.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            return secretQuery.contains(name.removingPercentEncoding ?? name) ? "\(name)=\(Self.redacted)" : String(pair)
        }.joined(separator: "&")
    }

    private func redactedURI(_ uri: String) -> String {
        guard let mark = uri.firstIndex(of: "?") else { return uri }
        return String(uri[..<mark]) + "?" + redactedQuery(String(uri[uri.index(after: mark)...]))
    }
}
