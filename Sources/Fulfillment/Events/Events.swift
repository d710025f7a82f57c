import Foundation

/// An order was placed (orders): the saga starts. In choreography, inventory reserves on it.
public struct OrderCreated: FulfillmentMessage {
    public static let name = "order.created"
    public var orderId: String
    public var userId: String
    public var lines: [OrderLine]
    public var totalCents: Int
    /// Lower-case ISO 4217, e.g. `usd`.
    public var currency: String
    public var sagaStyle: FulfillmentSagaStyle

    public init(orderId: String, userId: String, lines: [OrderLine], totalCents: Int, currency: String, sagaStyle: FulfillmentSagaStyle) {
        self.orderId = orderId
        self.userId = userId
        self.lines = lines
        self.totalCents = totalCents
        self.currency = currency
        self.sagaStyle = sagaStyle
    }
}

/// Every line of the order is held (inventory) until `expiresAt`, after which it releases itself.
public struct InventoryReserved: FulfillmentMessage {
    public static let name = "inventory.reserved"
    public var orderId: String
    public var reservationId: String
    public var lines: [StockLine]
    /// RFC 3339.
    public var expiresAt: Date

    public init(orderId: String, reservationId: String, lines: [StockLine], expiresAt: Date) {
        self.orderId = orderId
        self.reservationId = reservationId
        self.lines = lines
        self.expiresAt = expiresAt
    }
}

/// Nothing was reserved (inventory): all or nothing.
public struct InventoryReservationFailed: FulfillmentMessage {
    public static let name = "inventory.reservation-failed"
    /// `insufficient-stock`, `unknown-sku`, `invalid-quantity`, or `cancelled` (the order was released before).
    public var reason: String
    public var orderId: String
    /// The SKU that could not be reserved, when one line is to blame.
    public var sku: String?

    public init(orderId: String, reason: String, sku: String? = nil) {
        self.orderId = orderId
        self.reason = reason
        self.sku = sku
    }

    public static let insufficientStock = "insufficient-stock"
    public static let unknownSKU = "unknown-sku"
    public static let invalidQuantity = "invalid-quantity"
    public static let cancelled = "cancelled"
}

/// The order's amount was charged (payments).
public struct PaymentProcessed: FulfillmentMessage {
    public static let name = "payment.processed"
    public var orderId: String
    public var paymentId: String
    public var amountCents: Int
    public var currency: String

    public init(orderId: String, paymentId: String, amountCents: Int, currency: String) {
        self.orderId = orderId
        self.paymentId = paymentId
        self.amountCents = amountCents
        self.currency = currency
    }
}

/// The charge did not happen (payments): declined, timed out, or refused because the order was cancelled.
public struct PaymentFailed: FulfillmentMessage {
    public static let name = "payment.failed"
    public var orderId: String
    /// e.g. `declined`, `timeout`, `cancelled`.
    public var reason: String
    /// The provider's decline code, when declined.
    public var declineCode: String?

    public init(orderId: String, reason: String, declineCode: String? = nil) {
        self.orderId = orderId
        self.reason = reason
        self.declineCode = declineCode
    }

    public static let cancelled = "cancelled"
}

/// The saga completed (orders): inventory turns the reservation into a sale.
public struct OrderConfirmed: FulfillmentMessage {
    public static let name = "order.confirmed"
    public var orderId: String

    public init(orderId: String) { self.orderId = orderId }
}

/// The order was cancelled (orders): participants compensate what they did.
public struct OrderCancelled: FulfillmentMessage {
    public static let name = "order.cancelled"
    public var orderId: String
    public var reason: String

    public init(orderId: String, reason: String) {
        self.orderId = orderId
        self.reason = reason
    }
}

/// What the order held is available again (inventory): on release, cancellation or expiry.
public struct InventoryReleased: FulfillmentMessage {
    public static let name = "inventory.released"
    public var orderId: String
    /// Absent when nothing was held for the order.
    public var reservationId: String?

    public init(orderId: String, reservationId: String? = nil) {
        self.orderId = orderId
        self.reservationId = reservationId
    }
}

/// The order's charge was refunded (payments); `amountCents` is 0 when nothing was charged.
public struct PaymentRefunded: FulfillmentMessage {
    public static let name = "payment.refunded"
    public var orderId: String
    public var paymentId: String?
    public var amountCents: Int

    public init(orderId: String, paymentId: String? = nil, amountCents: Int) {
        self.orderId = orderId
        self.paymentId = paymentId
        self.amountCents = amountCents
    }
}
