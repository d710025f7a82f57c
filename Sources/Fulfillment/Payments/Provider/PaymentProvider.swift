import Foundation

/// Where money moves: the port the payments service charges and refunds through. ``SimulatedPaymentProvider`` is
/// the built-in one (declines, timeouts and latency on a switch); ``StripePaymentProvider`` talks to Stripe (or
/// Interchange's Stripe simulator).
///
/// Both calls are **idempotent by key**: a call repeated with the same ``ChargeRequest/idempotencyKey`` — after a
/// timeout, a crash, a redelivered command — answers what the first one did and moves no money again. The service
/// derives the keys from the order id (``ChargeRequest/idempotencyKey(orderID:)``), so every retry of one order's
/// charge, in any process, is the same charge.
///
/// ```swift
/// let provider: any PaymentProvider = SimulatedPaymentProvider()
/// switch try await provider.charge(ChargeRequest(orderID: "o-1", userID: "u-1", amountCents: 1200, currency: "usd")) {
/// case .charged(let charge): print(charge.providerPaymentID)
/// case .declined(let decline): print(decline.code)
/// }
/// ```
public protocol PaymentProvider: Sendable {
    /// What the payments record as their `provider` (`simulated`, `stripe`).
    var name: String { get }
    /// Charges `request.amountCents`, or answers the outcome of the earlier call with the same key.
    ///
    /// - Throws: ``PaymentProviderError`` when the outcome is unknown (``PaymentProviderError/Code/timeout``, or
    ///   ``PaymentProviderError/Code/unavailable``): the money may or may not have moved; call again with the same
    ///   request to find out. A decline is not an error: it is ``ChargeOutcome/declined(_:)``.
    func charge(_ request: ChargeRequest) async throws -> ChargeOutcome
    /// Refunds the whole charge `request` names, or answers the earlier refund with the same key.
    ///
    /// - Throws: ``PaymentProviderError``; a refund is retried until it succeeds.
    func refund(_ request: RefundRequest) async throws -> RefundReceipt
    /// What became of an earlier charge of `request` whose answer was lost (a timeout): the same outcome
    /// ``charge(_:)`` answered or would answer, or nil when the provider knows of no such charge. Used before
    /// refunding an order whose charge timed out, so a charge that did happen is given back.
    ///
    /// The default asks ``charge(_:)`` again with the same idempotency key: an idempotent provider answers the first
    /// charge; one that never saw it charges now, and the caller refunds it at once.
    func findCharge(_ request: ChargeRequest) async throws -> ChargeOutcome?
}

extension PaymentProvider {
    public func findCharge(_ request: ChargeRequest) async throws -> ChargeOutcome? {
        try await charge(request)
    }
}

/// One charge to make: everything is derived from the order, so every retry sends the same parameters.
public struct ChargeRequest: Sendable, Hashable {
    public var orderID: String
    public var userID: String
    public var amountCents: Int
    /// Lower-case ISO 4217.
    public var currency: String
    public var idempotencyKey: String

    public init(orderID: String, userID: String, amountCents: Int, currency: String) {
        self.orderID = orderID
        self.userID = userID
        self.amountCents = amountCents
        self.currency = currency
        self.idempotencyKey = Self.idempotencyKey(orderID: orderID)
    }

    /// `interchange-fulfillment-charge-<order id>`: one charge per order, however often it is asked for.
    public static func idempotencyKey(orderID: String) -> String { "interchange-fulfillment-charge-\(orderID)" }
}

/// One refund to make: the charge (the provider's id), how much, and the key derived from the order.
public struct RefundRequest: Sendable, Hashable {
    public var orderID: String
    public var providerPaymentID: String
    public var amountCents: Int
    public var idempotencyKey: String

    public init(orderID: String, providerPaymentID: String, amountCents: Int) {
        self.orderID = orderID
        self.providerPaymentID = providerPaymentID
        self.amountCents = amountCents
        self.idempotencyKey = Self.idempotencyKey(orderID: orderID)
    }

    /// `interchange-fulfillment-refund-<order id>`.
    public static func idempotencyKey(orderID: String) -> String { "interchange-fulfillment-refund-\(orderID)" }
}

/// What a charge came to.
public enum ChargeOutcome: Sendable, Hashable {
    case charged(Charge)
    case declined(Decline)

    public struct Charge: Sendable, Hashable {
        /// The provider's id of the money taken (`sim_pi_…`, `pi_…`): what a refund names.
        public var providerPaymentID: String
        public init(providerPaymentID: String) { self.providerPaymentID = providerPaymentID }
    }

    public struct Decline: Sendable, Hashable {
        /// The provider's decline code (`card_declined`, `insufficient_funds`, `generic_decline`).
        public var code: String
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }
}

/// A refund the provider made.
public struct RefundReceipt: Sendable, Hashable {
    /// The provider's refund id (`sim_re_…`, `re_…`).
    public var refundID: String
    public var amountCents: Int
    public init(refundID: String, amountCents: Int) {
        self.refundID = refundID
        self.amountCents = amountCents
    }
}

/// The provider could not say what happened, or refused the request itself (not a decline).
public struct PaymentProviderError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable { case timeout, unavailable, rejected }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No answer in time: the effect may have happened. Retry with the same request.
        public static let timeout = Code(.timeout)
        /// The provider could not be reached or answered 5xx/409/429 through every retry. Retry later.
        public static let unavailable = Code(.unavailable)
        /// The provider refused the request (a 4xx other than a decline): retrying the same request will not help.
        public static let rejected = Code(.rejected)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var provider: String
    public var message: String

    public init(code: Code, provider: String, message: String) {
        self.code = code
        self.provider = provider
        self.message = message
    }

    public var description: String { "\(provider) \(code): \(message)" }
}
