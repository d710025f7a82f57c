import Foundation
import FulfillmentEvents
import FulfillmentInventory
import InterchangeTesting
import Logging
import Messaging
import Persistence
import SQLKit

/// Inventory on a fresh database of `kind`, with an embedded transport in a database of its own.
enum InventoryHarness {
    static let logger: Logger = {
        var logger = Logger(label: "test.inventory")
        logger.logLevel = .error
        return logger
    }()

    static func with<T: Sendable>(
        _ kind: TestDatabase.Kind,
        configuration: InventoryConfiguration = InventoryConfiguration(),
        clock: ManualClock? = nil,
        _ body: @Sendable (InventoryComponent, EmbeddedTransport) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(kind) { (database: Database) -> T in
            try await TestDatabase.with(.sqlite) { (eventsDatabase: Database) -> T in
                try await eventsDatabase.migrate(EmbeddedTransport.migrations)
                let transport = EmbeddedTransport(
                    database: eventsDatabase,
                    configuration: EmbeddedTransport.Configuration(pollInterval: .milliseconds(20)),
                    logger: logger
                )
                let inventory = try await make(database: database, transport: transport, configuration: configuration, clock: clock)
                return try await body(inventory, transport)
            }
        }
    }

    static func make(
        database: Database,
        transport: EmbeddedTransport,
        configuration: InventoryConfiguration,
        clock: ManualClock?
    ) async throws -> InventoryComponent {
        if let clock {
            return try await InventoryComponent.make(
                database: database,
                transport: transport,
                configuration: configuration,
                logger: logger,
                now: clock.dateProvider,
                clock: clock,
                closesDatabase: false
            )
        }
        return try await InventoryComponent.make(
            database: database,
            transport: transport,
            configuration: configuration,
            logger: logger,
            closesDatabase: false
        )
    }

    /// The events in inventory's outbox, oldest first, decoded.
    static func outbox(_ inventory: InventoryComponent) async throws -> [CloudEvent] {
        try await inventory.store.database.withConnection { sql in
            try await sql.raw("SELECT payload FROM messaging_outbox ORDER BY seq").all().map { row in
                try CloudEvent(jsonEncoded: try row.decode(column: "payload", as: Data.self))
            }
        }
    }
}

extension InventoryComponent {
    /// available and reserved of `sku`.
    func level(_ sku: String) async throws -> (available: Int, reserved: Int) {
        let item = try await store.stock(sku: sku)
        return (item?.available ?? -1, item?.reserved ?? -1)
    }
}
