import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import InterchangeCore
import InterchangeTesting
import Logging
import Persistence
import Testing

@testable import GatewayProxy

@Suite("rate-limiting: sliding windows, and the cluster policy's counters in a shared database", .timeLimit(.minutes(2)))
struct RateLimitPolicyTests {
    /// 2026-01-01T00:00:00Z, a minute's and an hour's start.
    static let epoch = Date(timeIntervalSince1970: 1_767_225_600)

    static func plugin(
        _ config: String,
        now: LockedValue<Date>,
        database: Database? = nil,
        scope: String = "plugins[0]"
    ) throws -> RateLimitingPlugin {
        let configuration = try GatewayConfiguration.load(
            yaml: GatewayPluginTests.yaml(upstream: 9, plugins: "  - name: rate-limiting\n    config: \(config)")
        )
        guard case .rateLimiting(let limits) = configuration.plugins[0].configuration else { throw TestDatabaseError("not rate-limiting") }
        return try RateLimitingPlugin(limits, gateway: configuration, scope: scope, database: database, now: { now.value })
    }

    /// One request through the plugin's access phase: nil when it passes, the plugin's answer when it does not.
    static func request(_ plugin: RateLimitingPlugin, from address: String = "192.0.2.10") async throws -> (Response?, HTTPFields) {
        var context = PluginContext(
            head: HTTPRequest(method: .get, scheme: "http", authority: "gw", path: "/"),
            query: nil,
            clientAddress: address,
            route: EntityIndex(0),
            service: EntityIndex(0)
        )
        let answer = try await plugin.access(&context)
        return (answer, context.responseHeaders)
    }

    static func passed(_ plugin: RateLimitingPlugin, _ count: Int) async throws -> Int {
        var passed = 0
        for _ in 0..<count where try await request(plugin).0 == nil { passed += 1 }
        return passed
    }

    @Test("sliding: the previous minute's requests count by the share of it the last minute still covers; fixed forgets them")
    func slidingCarriesThePreviousWindow() async throws {
        let now = LockedValue(Self.epoch.addingTimeInterval(50))
        let sliding = try Self.plugin("{minute: 10, limit_by: ip, window_type: sliding}", now: now)
        let fixed = try Self.plugin("{minute: 10, limit_by: ip}", now: now)
        #expect(try await Self.passed(sliding, 12) == 10)
        #expect(try await Self.passed(fixed, 12) == 10)

        // 15 s into the next minute the last minute still covers 45 s (75 %) of the previous one: 7 of its 10 count.
        now.withLock { $0 = Self.epoch.addingTimeInterval(75) }
        #expect(try await Self.passed(fixed, 12) == 10, "a fixed window starts afresh: a burst across the boundary passes twice the limit")
        #expect(try await Self.passed(sliding, 3) == 3)
        let (limited, headers) = try await Self.request(sliding)
        let answer = try #require(limited)
        #expect(answer.status == .tooManyRequests)
        #expect(headers[HTTPField.Name("RateLimit-Remaining")!] == "0")
        // Room again once 3 + 10 × (remaining share) < 10: the share must fall below 0.7, just after 78 s.
        #expect(answer.headers[.retryAfter] == "4")
        now.withLock { $0 = Self.epoch.addingTimeInterval(78.5) }
        #expect(try await Self.passed(sliding, 2) == 1, "at 78.5 s the previous minute carries 6 (10 × 0.69): one more passes")
    }

    @Test("sliding: a full current window waits for the next window to carry little enough of it")
    func slidingRetryAfterAFullWindow() async throws {
        let now = LockedValue(Self.epoch.addingTimeInterval(1))
        let sliding = try Self.plugin("{minute: 10, limit_by: ip, window_type: sliding}", now: now)
        #expect(try await Self.passed(sliding, 10) == 10)
        let (limited, _) = try await Self.request(sliding)
        // The next minute carries 10 × its remaining share of this one: 9 as soon as it has begun, leaving room.
        #expect(limited?.headers[.retryAfter] == "60")
    }

    @Test(
        "cluster: two gateways sharing a database pass exactly the limit under 64 concurrent requests",
        arguments: TestDatabase.kinds,
        ["fixed", "sliding"]
    )
    func clusterIsExactUnderConcurrency(kind: TestDatabase.Kind, window: String) async throws {
        try await TestDatabase.with(kind) { database in
            try await ClusterRateLimitCounters.prepare(database)
            // A second pool on the same database, as a second gateway process has.
            let other = try await Database.open(database.location, logger: Logger(label: "test.second-gateway"))
            do {
                let now = LockedValue(Self.epoch.addingTimeInterval(30))
                let config = "{minute: 10, hour: 100, limit_by: ip, policy: cluster, window_type: \(window)}"
                let gateways = [try Self.plugin(config, now: now, database: database), try Self.plugin(config, now: now, database: other)]
                let passed = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<64 { group.addTask { try await Self.request(gateways[index % 2]).0 == nil } }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                #expect(passed == 10)
                let (_, headers) = try await Self.request(gateways[0])
                #expect(headers[HTTPField.Name("X-RateLimit-Remaining-Minute")!] == "0")
                #expect(headers[HTTPField.Name("X-RateLimit-Remaining-Hour")!] == "90", "refused requests count in no window")

                // Another instance's rows, and another client's, are apart.
                let elsewhere = try Self.plugin(config, now: now, database: other, scope: "plugins[1]")
                #expect(try await Self.passed(elsewhere, 1) == 1)
                #expect(try await Self.request(gateways[1], from: "192.0.2.99").0 == nil)

                // The next minute passes again, and the hour still counts the first one's ten.
                now.withLock { $0 = Self.epoch.addingTimeInterval(window == "fixed" ? 60 : 120) }
                let (next, nextHeaders) = try await Self.request(gateways[1])
                #expect(next == nil)
                #expect(nextHeaders[HTTPField.Name("X-RateLimit-Remaining-Hour")!] == "89")
            } catch {
                try? await other.shutdown()
                throw error
            }
            try await other.shutdown()
        }
    }

    @Test("cluster: with the database gone, fault_tolerant lets requests through; without it they are 500 problems")
    func clusterFaultTolerance() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ratelimit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await Database.open(.sqlite(path: directory.appendingPathComponent("gw.sqlite").path), logger: logger)
        try await ClusterRateLimitCounters.prepare(database)
        let now = LockedValue(Self.epoch)
        let tolerant = try Self.plugin("{minute: 1, policy: cluster}", now: now, database: database)
        let strict = try Self.plugin("{minute: 1, policy: cluster, fault_tolerant: false}", now: now, database: database, scope: "s")
        #expect(try await Self.request(tolerant).0 == nil)
        #expect(try await Self.request(tolerant).0?.status == .tooManyRequests, "the counters work while the database is up")
        try await database.shutdown()

        let (passed, headers) = try await Self.request(tolerant)
        #expect(passed == nil)
        #expect(headers[HTTPField.Name("RateLimit-Remaining")!] == nil, "no counts to report")
        let refused = try #require(try await Self.request(strict).0)
        #expect(refused.status == .internalServerError)
        #expect(refused.headers[.contentType] == "application/problem+json")
    }

    @Test("cluster without a database stops start-up naming config.policy; a bad window_type is named on load")
    func clusterNeedsADatabase() async throws {
        let now = LockedValue(Self.epoch)
        #expect {
            _ = try Self.plugin("{minute: 1, policy: cluster}", now: now)
        } throws: { error in
            let error = error as? GatewayPluginError
            return error?.field == "config.policy" && error?.reason.contains("--database") == true
        }
        #expect {
            _ = try Self.plugin("{minute: 1, window_type: rolling}", now: now)
        } throws: { error in
            "\(error)".contains("window_type") && "\(error)".contains("fixed, sliding")
        }
    }
}
