import Foundation
import InterchangeTesting
import Persistence
import SQLKit
import Testing
import WebhooksInbound
import WebhooksOutbound
import WebhooksSigning

/// A stored row that cannot be read is an error naming its table, row and column — never a quiet default
/// (an unreadable subscription list is not "subscribed to nothing", an unknown status is not "failed").
@Suite("Unreadable webhook rows", .timeLimit(.minutes(1)))
struct StoredRowTests {
    func withEngine(_ kind: TestDatabase.Kind, _ body: (WebhookDeliveryEngine) async throws -> Void) async throws {
        try await TestDatabase.with(kind) { database in
            let engine = try WebhookDeliveryEngine(
                database: database,
                configuration: .init(ssrfGuard: SSRFGuard(allowPrivateNetworks: true)),
                tracer: nil
            )
            try await engine.prepare()
            do {
                try await body(engine)
                try await engine.shutdown()
            } catch {
                try? await engine.shutdown()
                throw error
            }
        }
    }

    func corrupt(_ engine: WebhookDeliveryEngine, _ statement: String) async throws {
        try await engine.store.database.withConnection { sql in try await sql.raw(SQLQueryString(statement)).run() }
    }

    func expectUnreadable(
        table: String,
        row: String,
        column: String,
        _ body: () async throws -> Void,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let error = await #expect(throws: UnreadableRowError.self, sourceLocation: sourceLocation) { try await body() }
        #expect(error?.table == table, sourceLocation: sourceLocation)
        #expect(error?.row == row, sourceLocation: sourceLocation)
        #expect(error?.column == column, sourceLocation: sourceLocation)
    }

    @Test("an endpoint whose event-type list is not JSON is an error, not a subscription to nothing", arguments: TestDatabase.kinds)
    func unreadableEventTypes(kind: TestDatabase.Kind) async throws {
        try await withEngine(kind) { engine in
            let endpoint = try await engine.createEndpoint(url: "http://127.0.0.1:9/hooks", eventTypes: ["order.*"])
            try await corrupt(engine, "UPDATE webhook_endpoints SET event_types = 'order.*' WHERE id = '\(endpoint.id)'")
            await expectUnreadable(table: "webhook_endpoints", row: endpoint.id, column: "event_types") {
                _ = try await engine.store.endpoints()
            }
            // Publishing reads the endpoints too: it fails rather than silently delivering to no one.
            await #expect(throws: UnreadableRowError.self) {
                try await engine.publish(eventType: "order.created", payload: Data("{}".utf8))
            }
        }
    }

    @Test("an endpoint with an unknown signature scheme is an error, not the standard scheme", arguments: TestDatabase.kinds)
    func unknownScheme(kind: TestDatabase.Kind) async throws {
        try await withEngine(kind) { engine in
            let endpoint = try await engine.createEndpoint(url: "http://127.0.0.1:9/hooks", eventTypes: [])
            try await corrupt(engine, "UPDATE webhook_endpoints SET scheme = 'shopify' WHERE id = '\(endpoint.id)'")
            await expectUnreadable(table: "webhook_endpoints", row: endpoint.id, column: "scheme") {
                _ = try await engine.store.endpoint(id: endpoint.id)
            }
        }
    }

    @Test("a delivery with an unknown status is an error, not a failed delivery", arguments: TestDatabase.kinds)
    func unknownStatus(kind: TestDatabase.Kind) async throws {
        try await withEngine(kind) { engine in
            _ = try await engine.createEndpoint(url: "http://127.0.0.1:9/hooks", eventTypes: [])
            let publication = try await engine.publish(eventType: "order.created", payload: Data("{}".utf8))
            let id = try #require(publication.deliveryIDs.first)
            try await corrupt(engine, "UPDATE webhook_deliveries SET status = 'lost' WHERE id = '\(id)'")
            await expectUnreadable(table: "webhook_deliveries", row: id, column: "status") {
                _ = try await engine.store.delivery(id: id)
            }
            await expectUnreadable(table: "webhook_deliveries", row: "lost", column: "status") {
                _ = try await engine.store.deliveryCounts()
            }
        }
    }
}
