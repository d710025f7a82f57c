import Foundation

/// An order's lifecycle as a value type with no I/O: what is known about its checkout sessions and payment, folded
/// in as facts, and the status that follows from them.
///
/// Facts only ever accumulate (a flag is set, a set grows, a refunded amount takes the maximum seen), and
/// ``status`` and ``paymentStatus`` are functions of the facts alone — so the end state does not depend on the
/// order in which a payment's events arrive. Each call returns the timeline entries that say what happened,
/// including the transitions that were rejected (see ``transitions``).
///
/// ```swift
/// var lifecycle = OrderLifecycle(amountTotal: 2500, currency: "usd")
/// _ = lifecycle.recordSession(session, at: now)                                   // pending → awaiting_payment
/// let outcome = lifecycle.apply(.paymentSucceeded(paymentIntentID: "pi_1", amount: 2500, currency: "usd"),
///                               eventID: "evt_1", at: now)                         // awaiting_payment → paid
/// ```
///
/// How the facts decide the status, first match wins:
/// 1. a succeeded payment of the order's amount and currency, and no mismatched one: `refunded` once fully refunded,
///    else `fulfilled` once fulfilled, else `paid` (a refund seen before the payment is applied once it is known);
/// 2. a delayed payment failed: `cancelled`;
/// 3. no session and no payment activity: `pending`;
/// 4. every known session expired unpaid: `expired`;
/// 5. otherwise `awaiting_payment`.
public struct OrderLifecycle: Sendable, Hashable, Codable {
    /// One checkout session of the order, as recorded by the shop or learned from an event.
    public struct Session: Sendable, Hashable, Codable {
        public var id: String
        /// Set when the shop recorded the session; nil when only an event told of it.
        public var attempt: Int?
        public var url: String?
        public var expiresAt: Date?
        public var paymentIntentID: String?
        public var expired = false
        public var completed = false

        /// `complete`, `expired` or `open`, as Stripe calls a session's status.
        public var status: String { completed ? "complete" : expired ? "expired" : "open" }
    }

    /// The amount (minor units) and currency a payment must have to pay the order.
    public let amountTotal: Int
    /// Lowercase ISO 4217, as Stripe spells it.
    public let currency: String

    /// The sessions, in the order they became known.
    public internal(set) var sessions: [Session] = []
    /// Payment intents seen in events.
    public internal(set) var paymentIntentIDs: Set<String> = []
    /// A payment of the order's amount and currency succeeded.
    var succeeded = false
    /// A payment with another amount or currency succeeded.
    var mismatched = false
    /// A delayed payment method is settling.
    var processing = false
    /// An attempt was declined (the session stays open).
    var declined = false
    /// A delayed payment failed for good.
    var asyncFailed = false
    /// Any event about the order's payment was seen (so it has a checkout, even if the session was never recorded).
    var paymentActivity = false
    /// The most refunded so far (charges report the running total).
    public internal(set) var amountRefunded = 0
    var fullyRefunded = false
    var fulfilled = false
    /// Ids of the events folded in, so a repeated one is recognised.
    var eventIDs: Set<String> = []
    /// The checkout attempt planned and not recorded yet (``planCheckout(now:sessionLifetime:minimumValidity:)``);
    /// absent from lifecycles stored before it existed, which decode it as nil.
    public internal(set) var plannedCheckout: PlannedCheckout?

    public init(amountTotal: Int, currency: String) {
        self.amountTotal = amountTotal
        self.currency = currency
    }

    /// Paid in the order's amount and currency, with nothing contradicting the amount.
    var isPaid: Bool { succeeded && !mismatched }

    /// The order's status, from the facts alone (the rules in the type's comment).
    public var status: OrderStatus {
        if isPaid {
            if fullyRefunded { return .refunded }
            return fulfilled ? .fulfilled : .paid
        }
        if asyncFailed { return .cancelled }
        if sessions.isEmpty && !paymentActivity { return .pending }
        if !sessions.isEmpty && sessions.allSatisfy({ $0.expired && !$0.completed }) && !processing { return .expired }
        return .awaitingPayment
    }

    /// What is known about the money, from the facts alone.
    public var paymentStatus: PaymentStatus {
        if isPaid { return fullyRefunded ? .refunded : .paid }
        if asyncFailed { return .failed }
        if processing { return .processing }
        if declined { return .failed }
        return .unpaid
    }

    /// What an operator should look at: ``OrderFlag/amountMismatch`` after a payment of another amount or currency.
    public var flags: [String] { mismatched ? [OrderFlag.amountMismatch] : [] }

    /// The latest session the shop recorded (highest attempt).
    public var checkout: CheckoutSessionRef? {
        sessions.compactMap { session -> CheckoutSessionRef? in
            guard let attempt = session.attempt, let url = session.url, let expiresAt = session.expiresAt else { return nil }
            return CheckoutSessionRef(id: session.id, url: url, expiresAt: expiresAt, attempt: attempt)
        }.max { $0.attempt < $1.attempt }
    }

    /// The index of session `id`, adding it when it is new.
    mutating func sessionIndex(_ id: String) -> Int {
        if let index = sessions.firstIndex(where: { $0.id == id }) { return index }
        sessions.append(Session(id: id))
        return sessions.count - 1
    }
}
