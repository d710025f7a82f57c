import FulfillmentEvents
import InterchangeCore

/// Settings of the inventory service, with their defaults.
public struct InventoryConfiguration: Sendable {
    /// How long a reservation made on `order.created` (choreography) holds before it releases itself; orchestration's
    /// `command.reserve-inventory` carries its own `expiresInSeconds`. Default 15 minutes.
    public var reservationLifetime: Duration
    /// How often the expiry scanner looks for expired reservations. Default 1 second.
    public var expiryScanInterval: Duration
    /// Deliveries of one event before it is dead-lettered. Default 5.
    public var maxAttempts: Int
    /// The SKUs an empty database is seeded with. Default ``StockItem/demo``.
    public var seed: [StockItem]

    public init(
        reservationLifetime: Duration = .seconds(15 * 60),
        expiryScanInterval: Duration = .seconds(1),
        maxAttempts: Int = 5,
        seed: [StockItem] = StockItem.demo
    ) {
        self.reservationLifetime = reservationLifetime
        self.expiryScanInterval = expiryScanInterval
        self.maxAttempts = maxAttempts
        self.seed = seed
    }

    /// - Throws: ``ConfigurationError`` naming the field.
    public func validate() throws {
        guard reservationLifetime > .zero else {
            throw ConfigurationError(field: "inventory.reservationLifetime", reason: "must be positive (got \(reservationLifetime))")
        }
        guard expiryScanInterval > .zero else {
            throw ConfigurationError(field: "inventory.expiryScanInterval", reason: "must be positive (got \(expiryScanInterval))")
        }
        guard maxAttempts >= 1 else { throw ConfigurationError(field: "inventory.maxAttempts", reason: "must be at least 1 (got \(maxAttempts))") }
        for (index, item) in seed.enumerated() where item.sku.isEmpty || item.priceCents < 0 || item.available < 0 {
            throw ConfigurationError(field: "inventory.seed[\(index)]", reason: "needs a sku, a price ≥ 0 and stock ≥ 0")
        }
    }
}
