/// Stripe's test PaymentMethods — the `pm_card_…` ids a server-side integration confirms a PaymentIntent with —
/// and what each does, as Stripe's testing guide lists them (https://docs.stripe.com/testing#declined-payments).
///
/// | payment method | outcome |
/// |---|---|
/// | `pm_card_visa`, `pm_card_visa_debit`, `pm_card_mastercard`, `pm_card_amex`, `pm_card_discover`, `pm_card_us` | succeeds |
/// | `pm_card_chargeDeclined`, `pm_card_visa_chargeDeclined` | `card_declined` / `generic_decline` |
/// | `pm_card_chargeDeclinedInsufficientFunds`, `pm_card_visa_chargeDeclinedInsufficientFunds` | `card_declined` / `insufficient_funds` |
/// | `pm_card_chargeDeclinedLostCard`, `pm_card_visa_chargeDeclinedLostCard` | `card_declined` / `lost_card` |
/// | `pm_card_chargeDeclinedStolenCard`, `pm_card_visa_chargeDeclinedStolenCard` | `card_declined` / `stolen_card` |
/// | `pm_card_chargeDeclinedExpiredCard` | `expired_card` |
/// | `pm_card_chargeDeclinedIncorrectCvc` | `incorrect_cvc` |
/// | `pm_card_chargeDeclinedProcessingError` | `processing_error` |
/// | `pm_card_visa_chargeDeclinedVelocityLimitExceeded` | `card_declined` / `card_velocity_exceeded` |
///
/// Any other `pm_card_…` (3-D Secure, disputes, Radar) is not simulated: it is Stripe's `resource_missing`.
public struct TestPaymentMethod: Sendable, Hashable {
    /// The test id (`pm_card_visa`).
    public var name: String
    public var brand: String
    public var last4: String
    public var funding: String
    /// nil: the payment succeeds.
    public var decline: TestCard.Decline?

    /// The same for every `pm_…` made from one test method, as a card's fingerprint is.
    var fingerprint: String { "sim" + String(String(name.hashValueStable, radix: 36).prefix(13)) }

    /// The test payment method `name`, or nil when it is not one the simulator knows.
    public init?(name: String) {
        guard let found = Self.all.first(where: { $0.name == name }) else { return nil }
        self = found
    }

    private init(_ name: String, _ brand: String, _ last4: String, funding: String = "credit", decline: TestCard.Decline? = nil) {
        self.name = name
        self.brand = brand
        self.last4 = last4
        self.funding = funding
        self.decline = decline
    }

    /// Every test payment method the simulator knows.
    public static let all: [TestPaymentMethod] = [
        .init("pm_card_visa", "visa", "4242"),
        .init("pm_card_visa_debit", "visa", "5556", funding: "debit"),
        .init("pm_card_mastercard", "mastercard", "4444"),
        .init("pm_card_amex", "amex", "8431"),
        .init("pm_card_discover", "discover", "1117"),
        .init("pm_card_us", "visa", "4242"),
        .init("pm_card_chargeDeclined", "visa", "0002", decline: .generic),
        .init("pm_card_visa_chargeDeclined", "visa", "0002", decline: .generic),
        .init("pm_card_chargeDeclinedInsufficientFunds", "visa", "9995", decline: .insufficientFunds),
        .init("pm_card_visa_chargeDeclinedInsufficientFunds", "visa", "9995", decline: .insufficientFunds),
        .init("pm_card_chargeDeclinedLostCard", "visa", "9987", decline: .lostCard),
        .init("pm_card_visa_chargeDeclinedLostCard", "visa", "9987", decline: .lostCard),
        .init("pm_card_chargeDeclinedStolenCard", "visa", "9979", decline: .stolenCard),
        .init("pm_card_visa_chargeDeclinedStolenCard", "visa", "9979", decline: .stolenCard),
        .init("pm_card_chargeDeclinedExpiredCard", "visa", "0069", decline: .expiredCard),
        .init("pm_card_chargeDeclinedIncorrectCvc", "visa", "0127", decline: .incorrectCVC),
        .init("pm_card_chargeDeclinedProcessingError", "visa", "0119", decline: .processingError),
        .init("pm_card_visa_chargeDeclinedVelocityLimitExceeded", "visa", "6975", decline: .velocityExceeded),
    ]
}

extension String {
    /// FNV-1a of the UTF-8 bytes: stable across runs, unlike `hashValue`.
    fileprivate var hashValueStable: UInt64 {
        utf8.reduce(14_695_981_039_346_656_037) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }
}
