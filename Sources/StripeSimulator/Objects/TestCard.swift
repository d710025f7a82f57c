/// What a card number does in the simulator: Stripe's test cards, and the few outcomes the Checkout flow needs.
///
/// | number | outcome |
/// |---|---|
/// | 4242 4242 4242 4242 (and 5555 5555 5555 4444, 4000 0566 5566 5556) | paid at once |
/// | 4000 0000 0000 0002 | declined, `generic_decline` |
/// | 4000 0000 0000 9995 | declined, `insufficient_funds` |
/// | 4000 0000 0000 3220 | accepted, settled later (a delayed payment method) |
/// | anything else | `incorrect_number` |
public enum TestCard: Sendable, Hashable {
    case succeeds
    case declines(Decline)
    case settlesLater
    case incorrectNumber

    /// Why a card was declined, in Stripe's words.
    public struct Decline: Sendable, Hashable {
        /// `card_declined`, `incorrect_number`.
        public var code: String
        /// `generic_decline`, `insufficient_funds` (nil for `incorrect_number`).
        public var declineCode: String?
        public var message: String
        /// The card field Stripe blames (`exp_month` for an expired card, `cvc`), or nil.
        public var param: String? = nil

        public static let generic = Decline(code: "card_declined", declineCode: "generic_decline", message: "Your card was declined.")
        public static let insufficientFunds = Decline(
            code: "card_declined",
            declineCode: "insufficient_funds",
            message: "Your card has insufficient funds."
        )
        public static let incorrectNumber = Decline(code: "incorrect_number", declineCode: nil, message: "Your card number is incorrect.")
        public static let lostCard = Decline(code: "card_declined", declineCode: "lost_card", message: "Your card was declined.")
        public static let stolenCard = Decline(code: "card_declined", declineCode: "stolen_card", message: "Your card was declined.")
        public static let expiredCard = Decline(
            code: "expired_card",
            declineCode: "expired_card",
            message: "Your card has expired.",
            param: "exp_month"
        )
        public static let incorrectCVC = Decline(
            code: "incorrect_cvc",
            declineCode: "incorrect_cvc",
            message: "Your card's security code is incorrect.",
            param: "cvc"
        )
        public static let processingError = Decline(
            code: "processing_error",
            declineCode: "processing_error",
            message: "An error occurred while processing your card. Try again in a little bit."
        )
        public static let velocityExceeded = Decline(
            code: "card_declined",
            declineCode: "card_velocity_exceeded",
            message: "Your card was declined for making repeated attempts too frequently or exceeding its amount limit."
        )
    }

    /// The outcome for `number`; spaces and dashes are ignored.
    public init(number: String) {
        let digits = number.filter { !$0.isWhitespace && $0 != "-" }
        switch digits {
        case "4242424242424242", "5555555555554444", "4000056655665556": self = .succeeds
        case "4000000000000002": self = .declines(.generic)
        case "4000000000009995": self = .declines(.insufficientFunds)
        case "4000000000003220": self = .settlesLater
        default: self = .incorrectNumber
        }
    }

    /// The last four digits, as a charge reports them.
    static func last4(_ number: String) -> String {
        String(number.filter(\.isNumber).suffix(4))
    }
}
