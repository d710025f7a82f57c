import Foundation
import FulfillmentEvents

/// An order as the orders service keeps it: who, what at which price, and where its saga stands.
public struct Order: Sendable, Hashable {
    public var id: String
    public var userId: String
    public var lines: [OrderLine]
    public var totalCents: Int
    public var currency: String
    public var status: OrderStatus
    /// Why it was cancelled (``OrderStatus/cancelled`` only).
    public var reason: String?
    public var sagaStyle: FulfillmentSagaStyle
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String,
        userId: String,
        lines: [OrderLine],
        totalCents: Int,
        currency: String,
        status: OrderStatus,
        reason: String? = nil,
        sagaStyle: FulfillmentSagaStyle,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.userId = userId
        self.lines = lines
        self.totalCents = totalCents
        self.currency = currency
        self.status = status
        self.reason = reason
        self.sagaStyle = sagaStyle
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where an order stands: PENDING → (RESERVING → CHARGING) → CONFIRMED, or → COMPENSATING → CANCELLED.
public enum OrderStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case pending = "PENDING"
    case reserving = "RESERVING"
    case charging = "CHARGING"
    case confirmed = "CONFIRMED"
    case compensating = "COMPENSATING"
    case cancelled = "CANCELLED"

    /// CONFIRMED and CANCELLED: nothing changes an order any more.
    public var isFinal: Bool { self == .confirmed || self == .cancelled }
}
