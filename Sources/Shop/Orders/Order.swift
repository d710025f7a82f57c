import Foundation

/// An order: its lines at the prices of the moment it was placed, where it is in its lifecycle, and what happened.
public struct Order: Sendable, Hashable, Codable {
    /// `ord_…`
    public var id: String
    public var status: OrderStatus
    public var paymentStatus: PaymentStatus
    public var currency: String
    /// The sum of the lines' amounts, in minor units.
    public var amountTotal: Int
    public var lines: [OrderLine]
    /// The latest checkout session the shop opened for this order, if any.
    public var checkout: CheckoutSessionRef?
    /// Conditions an operator should look at, e.g. ``OrderFlag/amountMismatch``.
    public var flags: [String]
    public var createdAt: Date
    public var updatedAt: Date
    /// What happened, oldest first.
    public var timeline: [TimelineEntry]

    public init(
        id: String,
        status: OrderStatus,
        paymentStatus: PaymentStatus,
        currency: String,
        amountTotal: Int,
        lines: [OrderLine],
        checkout: CheckoutSessionRef?,
        flags: [String],
        createdAt: Date,
        updatedAt: Date,
        timeline: [TimelineEntry]
    ) {
        self.id = id
        self.status = status
        self.paymentStatus = paymentStatus
        self.currency = currency
        self.amountTotal = amountTotal
        self.lines = lines
        self.checkout = checkout
        self.flags = flags
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.timeline = timeline
    }
}

/// The flags an order may carry.
public enum OrderFlag {
    /// A payment completed with an amount or currency other than the order's; the order was not marked paid.
    public static let amountMismatch = "amount_mismatch"
}

/// One line of an order, with the product's name and price copied when the order was placed.
public struct OrderLine: Sendable, Hashable, Codable {
    public var productID: String
    public var name: String
    public var unitAmount: Int
    public var quantity: Int
    /// `unitAmount × quantity`.
    public var amount: Int

    /// The quantities a line may have.
    public static let quantityRange = 1...99

    public init(productID: String, name: String, unitAmount: Int, quantity: Int, amount: Int) {
        self.productID = productID
        self.name = name
        self.unitAmount = unitAmount
        self.quantity = quantity
        self.amount = amount
    }
}

/// One thing that happened to an order.
public struct TimelineEntry: Sendable, Hashable, Codable {
    public var at: Date
    /// What kind of thing: `order.created`, `checkout.created`, `checkout.failed`, `status.changed`,
    /// `transition.rejected`, `payment.failed`, `refund.partial`, `refund.deferred`, `event.recorded`, `flag.added`.
    public var kind: String
    public var message: String
    /// For status changes and rejected transitions: the status before.
    public var from: OrderStatus?
    /// For status changes: the status after; for rejected transitions: the status the event asked for.
    public var to: OrderStatus?

    public init(at: Date, kind: String, message: String, from: OrderStatus? = nil, to: OrderStatus? = nil) {
        self.at = at
        self.kind = kind
        self.message = message
        self.from = from
        self.to = to
    }
}

/// A Stripe Checkout session the shop opened for an order.
public struct CheckoutSessionRef: Sendable, Hashable, Codable {
    /// `cs_…`
    public var id: String
    /// The hosted payment page.
    public var url: String
    public var expiresAt: Date
    /// 1 for the order's first session, +1 for each new session after one expired.
    public var attempt: Int

    public init(id: String, url: String, expiresAt: Date, attempt: Int) {
        self.id = id
        self.url = url
        self.expiresAt = expiresAt
        self.attempt = attempt
    }
}
