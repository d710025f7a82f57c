import Foundation
import Hummingbird
import InterchangeTesting
import Persistence
import SQLKit
import ServiceRuntime
import Testing

@testable import Shop

/// The shop with its database gone — SQLite's connections closed, PostgreSQL refusing the database — answers its API
/// with a `503` problem (``DatabaseOutageMiddleware``) and webhooks with a `500` problem, naming no secret;
/// acknowledges no webhook (so Stripe delivers it again); and says so on `/health`.
@Suite(.timeLimit(.minutes(1)))
struct APIDatabaseUnavailableTests {
    static let webhookSecret = "whsec_outage_tests"

    /// A database of `kind` a test can take away and give back.
    struct Outage: Sendable {
        /// The database the shop runs on.
        let database: Database
        /// Makes it unavailable: SQLite's pool is shut down; PostgreSQL's server refuses new sessions to the database
        /// (`ALLOW_CONNECTIONS false`) and ends the shop's (`pg_terminate_backend`).
        let cutOff: @Sendable () async throws -> Void
        /// Gives the data back (for SQLite, a new pool over the same file) and counts the rows of `tables`.
        let rowCounts: @Sendable (_ tables: [String]) async throws -> [String: Int]
        /// Secrets that must never reach a response (a PostgreSQL password, the SQLite file's path).
        let secrets: [String]
    }

    static func withOutage<T: Sendable>(_ kind: TestDatabase.Kind, _ body: @Sendable (Outage) async throws -> T) async throws -> T {
        let logger = LoopbackServer.quietLogger
        switch kind {
        case .sqlite:
            // Not TestDatabase: the test shuts this pool down itself, and a pool shuts down only once.
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-outage-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("shop.sqlite").path
            let database = try await Database.open(.sqlite(path: path), logger: logger)
            let closed = LockedValue(false)
            let outage = Outage(
                database: database,
                cutOff: {
                    try await database.shutdown()
                    closed.withLock { $0 = true }
                },
                rowCounts: { tables in
                    let reopened = try await Database.open(.sqlite(path: path), logger: logger)
                    do {
                        let counts = try await Self.rowCounts(reopened, tables)
                        try await reopened.shutdown()
                        return counts
                    } catch {
                        try? await reopened.shutdown()
                        throw error
                    }
                },
                secrets: [path, directory.lastPathComponent]
            )
            let result: Result<T, any Error>
            do { result = .success(try await body(outage)) } catch { result = .failure(error) }
            if !closed.value { try? await database.shutdown() }
            return try result.get()
        case .postgres:
            return try await TestDatabase.with(.postgres) { database in
                let url = try #require(ProcessInfo.processInfo.environment["INTERCHANGE_TEST_POSTGRES_URL"])
                let name = try await database.withConnection { sql in
                    try #require(try await sql.raw("SELECT current_database() AS name").first()?.decode(column: "name", as: String.self))
                }
                let admin = try await Database.open(.postgres(url: url), maxConnections: 1, logger: logger)
                let outage = Outage(
                    database: database,
                    cutOff: {
                        try await admin.withConnection { sql in
                            try await sql.raw("ALTER DATABASE \(ident: name) ALLOW_CONNECTIONS false").run()
                            try await sql.raw("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(bind: name)").run()
                            // Bounded: the server has ended every session of the database before the shop is asked.
                            for _ in 0..<200 {
                                let count = try await sql.raw("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = \(bind: name)")
                                    .first()?.decode(column: "n", as: Int.self)
                                if count == 0 { return }
                                try await Task.sleep(for: .milliseconds(25))
                            }
                            throw HarnessError("the sessions of \(name) did not end within 5 s of pg_terminate_backend")
                        }
                    },
                    rowCounts: { tables in
                        try await admin.withConnection { sql in try await sql.raw("ALTER DATABASE \(ident: name) ALLOW_CONNECTIONS true").run() }
                        return try await Self.rowCounts(database, tables)
                    },
                    secrets: [URLComponents(string: url)?.password, url].compactMap { $0 }.filter { !$0.isEmpty }
                )
                let result: Result<T, any Error>
                do { result = .success(try await body(outage)) } catch { result = .failure(error) }
                try? await admin.withConnection { sql in try await sql.raw("ALTER DATABASE \(ident: name) ALLOW_CONNECTIONS true").run() }
                try? await admin.shutdown()
                return try result.get()
            }
        }
    }

    /// The shop on `outage`'s database, with `/health` served as `interchange` serves it and webhooks stored, not
    /// processed (so only the receiver touches the inbox). `beforeOutage` runs on the built shop; then the database
    /// is cut off, before the server and services start — a SQLite pool shut down under a query in flight would
    /// crash the test process (SQLiteNIO asserts a connection released after its thread pool stopped is closed).
    static func withShop<T: Sendable>(
        _ outage: Outage,
        beforeOutage: @Sendable @escaping (ShopComponent) async throws -> Void = { _ in },
        _ body: @Sendable (ShopHarness) async throws -> T
    ) async throws -> T {
        let configuration = ShopConfiguration(stripeWebhookSecrets: [webhookSecret], processesWebhooks: false)
        return try await ShopHarness.run(
            database: outage.database,
            configuration: configuration,
            extraRoutes: { router, shop in
                HealthAndMetrics.addRoutes(
                    to: router,
                    components: [shop],
                    metrics: .init(contentType: "text/plain", render: { "" }),
                    logger: LoopbackServer.quietLogger
                )
            },
            beforeServing: { shop in
                try await beforeOutage(shop)
                try await outage.cutOff()
            },
            body
        )
    }

    /// A 5xx problem+json whose text holds none of `secrets`, the webhook secret or the Stripe key.
    static func expectServerProblem(_ answer: ShopHarness.Answer, secrets: [String], _ what: String) throws {
        #expect((500...599).contains(answer.status), "\(what) answered \(answer.status): \(answer.text)")
        #expect(answer.header("Content-Type") == "application/problem+json", "\(what)")
        let problem = try answer.json()
        #expect(problem["status"] as? Int == answer.status, "\(what)")
        #expect((problem["detail"] as? String)?.isEmpty == false, "\(what)")
        for secret in secrets + [webhookSecret, ShopConfiguration.simulatorSecretKey, "postgres://"] {
            #expect(!answer.text.contains(secret), "\(what) names a secret: \(answer.text)")
        }
    }

    /// The API's answer without its database: `503`, `Retry-After`, the database named as the failing part.
    static func expectDatabaseUnavailable(_ answer: ShopHarness.Answer, secrets: [String], _ what: String) throws {
        try expectServerProblem(answer, secrets: secrets, what)
        #expect(answer.status == 503, "\(what)")
        #expect(answer.header("Retry-After") == "5", "\(what)")
        let problem = try answer.json()
        #expect(problem["title"] as? String == "Database unavailable", "\(what)")
        #expect(problem["upstream"] as? String == "database", "\(what)")
    }

    static func rowCounts(_ database: Database, _ tables: [String]) async throws -> [String: Int] {
        try await database.withConnection { sql in
            var counts: [String: Int] = [:]
            for table in tables {
                counts[table] = try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self)
            }
            return counts
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aSignedWebhookIsA5xxProblemAndNotAcknowledged(kind: TestDatabase.Kind) async throws {
        try await Self.withOutage(kind) { outage in
            try await Self.withShop(outage) { shop in
                let payload = APIWebhookTests.completedEvent(order: ["id": "ord_outage", "amountTotal": 2500], sessionID: "cs_test_outage")
                let signature = try APIWebhookTests.signature(payload, secret: Self.webhookSecret)
                let answer = try await APIWebhookTests.deliver(shop, payload, signature: signature)
                try Self.expectServerProblem(answer, secrets: outage.secrets, "the webhook")
                #expect(try await outage.rowCounts(["webhook_inbox", "shop_stripe_events"]) == ["webhook_inbox": 0, "shop_stripe_events": 0])
                if kind == .postgres {
                    // The database is back: Stripe's redelivery of the same signed event is stored and acknowledged.
                    #expect(try await APIWebhookTests.deliver(shop, payload, signature: signature).status == 200)
                    #expect(try await shop.count("webhook_inbox") == 1)
                }
            }
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func placingAnOrderIsA5xxProblemNamingNoSecret(kind: TestDatabase.Kind) async throws {
        try await Self.withOutage(kind) { outage in
            try await Self.withShop(outage) { shop in
                let body = #"{"lines":[{"productId":"prod_mug","quantity":1}]}"#
                let withKey = try await shop.request(.post, "/shop/api/orders", body: body, headers: [("Idempotency-Key", "outage-1")])
                try Self.expectDatabaseUnavailable(withKey, secrets: outage.secrets, "POST /shop/api/orders with a key")
                let withoutKey = try await shop.request(.post, "/shop/api/orders", body: body)
                try Self.expectDatabaseUnavailable(withoutKey, secrets: outage.secrets, "POST /shop/api/orders")
                try Self.expectDatabaseUnavailable(try await shop.request(.get, "/shop/api/products"), secrets: outage.secrets, "GET products")
                #expect(try await outage.rowCounts(["shop_orders"]) == ["shop_orders": 0])
            }
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func checkoutIsA5xxProblemNamingNoSecretAndStripeIsNotCalled(kind: TestDatabase.Kind) async throws {
        try await Self.withOutage(kind) { outage in
            let placed = LockedValue<String?>(nil)
            let placeOrder: @Sendable (ShopComponent) async throws -> Void = { shop in
                let order = try await shop.store.createOrder(lines: [(productID: "prod_mug", quantity: 1)])
                placed.withLock { $0 = order.id }
            }
            try await Self.withShop(outage, beforeOutage: placeOrder) { shop in
                let id = try #require(placed.value)
                let answer = try await shop.request(.post, "/shop/api/orders/\(id)/checkout")
                try Self.expectDatabaseUnavailable(answer, secrets: outage.secrets, "checkout")
                try Self.expectDatabaseUnavailable(try await shop.request(.get, "/shop/api/orders/\(id)"), secrets: outage.secrets, "GET the order")
                #expect(try await CheckoutSimulatorTests.sessionsAtSimulator(shop).isEmpty)
            }
        }
    }

    @Test func aFailureWhileTheDatabaseAnswersStaysA500AndAProblemPassesThrough() async throws {
        struct Bug: Error {}
        let routes: @Sendable (Router<BasicRequestContext>, ShopComponent) throws -> Void = { router, shop in
            let group = router.group("/test").add(middleware: DatabaseOutageMiddleware(store: shop.store))
            group.get("bug") { _, _ -> Response in throw Bug() }
            group.get("problem") { _, _ -> Response in throw ProblemError.invalidParameter("x", "must be set") }
        }
        try await ShopHarness.run(simulator: false, extraRoutes: routes) { shop in
            let bug = try await shop.request(.get, "/test/bug")
            #expect(bug.status == 500)
            #expect(try bug.json()["requestId"] != nil)
            #expect(try await shop.request(.get, "/test/problem").status == 400)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func healthReportsTheShopDownWithTheDatabaseUnavailable(kind: TestDatabase.Kind) async throws {
        try await Self.withOutage(kind) { outage in
            try await Self.withShop(outage, beforeOutage: { shop in try await shop.checkHealth() }) { shop in
                await #expect(throws: HealthCheckFailure.self) { try await shop.shop.checkHealth() }
                let down = try await shop.request(.get, "/health")
                #expect(down.status == 503)
                let report = try down.json()
                #expect((report["components"] as? [String: String])?["shop"] == "down")
                #expect((report["reasons"] as? [String: String])?["shop"] == "database_unavailable")
                for secret in outage.secrets { #expect(!down.text.contains(secret)) }
            }
        }
    }
}
