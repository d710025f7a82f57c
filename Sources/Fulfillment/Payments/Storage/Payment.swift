import Foundation

/// One order's payment: at most one per order (`payments.order_id` is unique), charged, refunded or failed.
public struct Payment: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        /// The provider took the money.
        case charged
        /// It was given back (after a refund-payment command or order.cancelled).
        case refunded
        /// Nothing was taken: declined by the provider, or refused because the order was cancelled first.
        case failed
    }

    /// `pay_` and 32 hex digits.
    public var id: String
    public var orderID: String
    public var userID: String
    public var amountCents: Int
    public var currency: String
    public var status: Status
    /// The provider's ``PaymentProvider/name``.
    public var provider: String
    /// The provider's id of the charge; nil when nothing was charged.
    public var providerPaymentID: String?
    public var refundID: String?
    public var refundedCents: Int
    /// For `failed`: `declined` or `cancelled`.
    public var reason: String?
    public var declineCode: String?
    public var createdAt: Date
    public var updatedAt: Date

    /// A new payment id.
    public static func newID() -> String { "pay_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }

    /// Why a charge was refused: the order was refunded or cancelled before the charge arrived.
    public static let cancelledReason = "cancelled"
    /// Why a charge failed: the provider declined it.
    public static let declinedReason = "declined"
}

/// What the payments service remembers of an order from `order.created`: what a choreographed charge (on
/// `inventory.reserved`, which carries no amount) charges, and the style that says whether to react to events.
public struct PaymentOrder: Sendable, Hashable {
    public var orderID: String
    public var userID: String
    public var amountCents: Int
    public var currency: String
    /// `orchestration` or `choreography`.
    public var sagaStyle: String

    public init(orderID: String, userID: String, amountCents: Int, currency: String, sagaStyle: String) {
        self.orderID = orderID
        self.userID = userID
        self.amountCents = amountCents
        self.currency = currency
        self.sagaStyle = sagaStyle
    }
}
