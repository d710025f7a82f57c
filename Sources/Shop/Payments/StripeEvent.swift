import Foundation

/// A Stripe event, decoded from the JSON Stripe sends (`{"id":"evt_…","object":"event","type":…,"data":{"object":{…}}}`),
/// keeping only the fields of `data.object` the shop needs.
///
/// ```swift
/// let event = try StripeEvent(json: payload)
/// if case .checkoutSession(let session) = event.object { print(session.paymentStatus) }
/// ```
public struct StripeEvent: Sendable, Hashable {
    /// `evt_…`
    public var id: String
    /// `checkout.session.completed`, `charge.refunded`, …
    public var type: String
    public var created: Date
    public var object: Object

    /// `data.object`, by its `object` field.
    public enum Object: Sendable, Hashable {
        case checkoutSession(CheckoutSession)
        case paymentIntent(PaymentIntent)
        case charge(Charge)
        /// An object the shop does not read (its `object` field, when it has one).
        case other(objectType: String?)
    }

    /// A `checkout.session` object.
    public struct CheckoutSession: Sendable, Hashable {
        /// `cs_…`
        public var id: String
        /// `open`, `complete` or `expired`.
        public var status: String?
        /// `unpaid`, `paid` or `no_payment_required`.
        public var paymentStatus: String
        public var amountTotal: Int?
        public var currency: String?
        public var metadata: [String: String]
        public var clientReferenceID: String?
        /// The payment intent's id (also when Stripe expanded it into an object).
        public var paymentIntent: String?

        public init(
            id: String,
            status: String?,
            paymentStatus: String,
            amountTotal: Int?,
            currency: String?,
            metadata: [String: String],
            clientReferenceID: String?,
            paymentIntent: String?
        ) {
            self.id = id
            self.status = status
            self.paymentStatus = paymentStatus
            self.amountTotal = amountTotal
            self.currency = currency
            self.metadata = metadata
            self.clientReferenceID = clientReferenceID
            self.paymentIntent = paymentIntent
        }
    }

    /// A `payment_intent` object.
    public struct PaymentIntent: Sendable, Hashable {
        /// `pi_…`
        public var id: String
        public var status: String?
        public var amount: Int
        public var amountReceived: Int?
        public var currency: String
        public var metadata: [String: String]
        public var lastPaymentError: PaymentError?

        public init(
            id: String,
            status: String?,
            amount: Int,
            amountReceived: Int?,
            currency: String,
            metadata: [String: String],
            lastPaymentError: PaymentError?
        ) {
            self.id = id
            self.status = status
            self.amount = amount
            self.amountReceived = amountReceived
            self.currency = currency
            self.metadata = metadata
            self.lastPaymentError = lastPaymentError
        }
    }

    /// A payment intent's `last_payment_error`.
    public struct PaymentError: Sendable, Hashable, Decodable {
        public var type: String?
        public var code: String?
        public var declineCode: String?
        public var message: String?

        public init(type: String?, code: String?, declineCode: String?, message: String?) {
            self.type = type
            self.code = code
            self.declineCode = declineCode
            self.message = message
        }

        enum CodingKeys: String, CodingKey {
            case type, code, message
            case declineCode = "decline_code"
        }
    }

    /// A `charge` object.
    public struct Charge: Sendable, Hashable {
        /// `ch_…`
        public var id: String
        public var paymentIntent: String?
        public var amount: Int
        public var amountRefunded: Int
        /// True once the charge is refunded in full.
        public var refunded: Bool
        public var currency: String
        public var metadata: [String: String]

        public init(
            id: String,
            paymentIntent: String?,
            amount: Int,
            amountRefunded: Int,
            refunded: Bool,
            currency: String,
            metadata: [String: String]
        ) {
            self.id = id
            self.paymentIntent = paymentIntent
            self.amount = amount
            self.amountRefunded = amountRefunded
            self.refunded = refunded
            self.currency = currency
            self.metadata = metadata
        }
    }

    public init(id: String, type: String, created: Date, object: Object) {
        self.id = id
        self.type = type
        self.created = created
        self.object = object
    }
}
