/// Why a webhook was rejected. Receivers answer `400` with it and touch no state.
///
/// Shaped like AsyncHTTPClient's errors: match on ``code``; ``description`` is safe to log (it never contains
/// a secret or a signature).
public struct WebhookVerificationError: Error, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A required signature header is absent.
        public static let missingHeader = Code("missing header")
        /// A signature header is present but cannot be parsed.
        public static let malformedHeader = Code("malformed header")
        /// The signed timestamp is too old or too far in the future.
        public static let timestampOutsideTolerance = Code("timestamp outside tolerance")
        /// No signature in the header matches the payload under any configured secret.
        public static let noMatchingSignature = Code("no matching signature")
        /// A secret is not in the scheme's format (Standard Webhooks: `whsec_` + base64).
        public static let invalidSecret = Code("invalid secret")

        public var description: String { name }
    }

    public var code: Code
    /// What exactly was wrong, e.g. the header name, or the timestamp's age.
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code): \(detail)" }
}
