/// Orchestration: hold `lines` for the order for `expiresInSeconds` (answered by ``InventoryReserved`` or
/// ``InventoryReservationFailed``).
public struct ReserveInventory: FulfillmentMessage {
    public static let name = "command.reserve-inventory"
    public var orderId: String
    public var lines: [StockLine]
    public var expiresInSeconds: Int

    public init(orderId: String, lines: [StockLine], expiresInSeconds: Int) {
        self.orderId = orderId
        self.lines = lines
        self.expiresInSeconds = expiresInSeconds
    }
}

/// Orchestration: release what the order holds (answered by ``InventoryReleased``).
public struct ReleaseInventory: FulfillmentMessage {
    public static let name = "command.release-inventory"
    public var orderId: String

    public init(orderId: String) { self.orderId = orderId }
}

/// Orchestration: charge the order's amount (answered by ``PaymentProcessed`` or ``PaymentFailed``).
public struct ChargePayment: FulfillmentMessage {
    public static let name = "command.charge-payment"
    public var orderId: String
    public var userId: String
    public var amountCents: Int
    public var currency: String

    public init(orderId: String, userId: String, amountCents: Int, currency: String) {
        self.orderId = orderId
        self.userId = userId
        self.amountCents = amountCents
        self.currency = currency
    }
}

/// Orchestration: refund the order's charge, if any (answered by ``PaymentRefunded``).
public struct RefundPayment: FulfillmentMessage {
    public static let name = "command.refund-payment"
    public var orderId: String

    public init(orderId: String) { self.orderId = orderId }
}
