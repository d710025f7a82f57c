import AsyncHTTPClient
import Foundation
import Gateway
import InterchangeCore
import InterchangeTesting
import Testing

@testable import GatewayProxy

@Suite("Gateway plugins: file-log, credentials redacted", .timeLimit(.minutes(2)))
struct FileLogPluginTests {
    static func lines(_ url: URL) throws -> [[String: JSONValue]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode([String: JSONValue].self, from: Data($0.utf8))
        }
    }

    /// Waits (bounded) until the file has `count` lines: a line is written once its response has ended.
    static func waitForLines(_ url: URL, _ count: Int) async throws -> [[String: JSONValue]] {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let lines = try? lines(url), lines.count >= count { return lines }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try lines(url)
    }

    @Test("a JSON line per request, in Kong's shape, with keys, tokens and cookies redacted — for a refused request too")
    func linesAndRedaction() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "file-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "access.log")
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = """
                  - name: key-auth
                    config: {key_names: [apikey]}
                  - name: file-log
                    config: {path: \(path.path)}
                """
            let yaml = GatewayPluginTests.yaml(upstream: ports[0], plugins: plugins, consumers: GatewayPluginTests.consumers)
            try await withGateway(yaml) { _, gateway in
                let headers = [("Authorization", "Bearer top-secret-token"), ("Cookie", "session=top-secret-cookie"), ("X-Trace", "t1")]
                let ok = try await call(.GET, "\(gateway)/orders?page=2&apikey=alice-key-1", headers: headers).status
                let refused = try await call(.GET, "\(gateway)/orders", headers: [("apikey", "wrong-key-guess")]).status
                #expect([ok, refused] == [Int]([200, 401]))
                let lines = try await Self.waitForLines(path, 2)
                #expect(lines.count == 2)
                guard lines.count == 2 else { return }
                let (served, denied) = (lines[0], lines[1])
                guard case .object(let request) = served["request"], case .object(let requestHeaders) = request["headers"],
                    case .object(let query) = request["querystring"], case .object(let response) = served["response"],
                    case .object(let consumer) = served["consumer"], case .object(let route) = served["route"]
                else {
                    Issue.record("not Kong's shape: \(served)")
                    return
                }
                #expect(request["method"] == .string("GET"))
                #expect(request["uri"] == .string("/orders?page=2&apikey=REDACTED"))
                #expect(query == ["page": .string("2"), "apikey": .string("REDACTED")])
                #expect(requestHeaders["authorization"] == .string("REDACTED") && requestHeaders["cookie"] == .string("REDACTED"))
                #expect(requestHeaders["x-trace"] == .string("t1"))
                #expect(response["status"] == .number(200))
                // Sizes as Kong's request_length and bytes_sent: the heads as sent and the bodies ("u0", 2 bytes).
                if case .number(let size) = request["size"] { #expect(size > 100 && size < 400, "\(size)") } else { Issue.record("no request size") }
                if case .number(let size) = response["size"] { #expect(size > 60 && size < 300, "\(size)") } else { Issue.record("no response size") }
                #expect(consumer["username"] == .string("alice"))
                #expect(route["name"] == .string("api"))
                #expect(served["upstream_uri"] == .string("/orders?page=2&apikey=REDACTED"))
                #expect(served["source"] == .string("upstream"))
                guard case .object(let deniedResponse) = denied["response"], case .object(let deniedRequest) = denied["request"],
                    case .object(let deniedHeaders) = deniedRequest["headers"]
                else { return }
                #expect(deniedResponse["status"] == .number(401))
                #expect(denied["source"] == .string("kong") && denied["consumer"] == nil)
                #expect(deniedHeaders["apikey"] == .string("REDACTED"))
                let text = try String(contentsOf: path, encoding: .utf8)
                for secret in ["top-secret-token", "top-secret-cookie", "alice-key-1", "wrong-key-guess"] {
                    #expect(!text.contains(secret), "\(secret) reached the log")
                }
            }
        }
    }

    @Test("reopen: a rotated file is picked up at the next line")
    func reopen() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "file-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "access.log")
        let rotated = directory.appending(path: "access.log.1")
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = "  - name: file-log\n    config: {path: \(path.path), reopen: true}"
            try await withGateway(GatewayPluginTests.yaml(upstream: ports[0], plugins: plugins)) { _, gateway in
                let first = try await call(.GET, "\(gateway)/one").status
                #expect(try await Self.waitForLines(path, 1).count == 1)
                try FileManager.default.moveItem(at: path, to: rotated)
                let second = try await call(.GET, "\(gateway)/two").status
                #expect([first, second] == [Int]([200, 200]))
                let fresh = try await Self.waitForLines(path, 1)
                #expect(fresh.count == 1)
                guard case .object(let request) = fresh.first?["request"] else { return }
                #expect(request["uri"] == .string("/two"))
                #expect(try Self.lines(rotated).count == 1)
            }
        }
    }
}
