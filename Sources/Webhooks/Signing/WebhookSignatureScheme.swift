import Crypto
import Foundation
import HTTPTypes

/// A way of signing webhook payloads: what is signed, with which key, in which headers.
public enum WebhookSignatureScheme: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 over `"<t>.<raw body>"`,
    /// keyed by the whole secret string as UTF-8 (the `whsec_` prefix included, never base64-decoded).
    case stripe
    /// Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp`,
    /// `webhook-signature: v1,<base64>[ v1,<base64>…]`, HMAC-SHA256 over `"<id>.<timestamp>.<body>"`,
    /// keyed by the base64 part of a `whsec_…` secret.
    case standard

    public var description: String { rawValue }
}

/// The headers that carry a webhook's signature.
public struct WebhookSignatureHeaders: Sendable, Hashable {
    /// In the order the scheme documents them.
    public var fields: [(name: String, value: String)]

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.fields.map { "\($0.name): \($0.value)" } == rhs.fields.map { "\($0.name): \($0.value)" }
    }

    public func hash(into hasher: inout Hasher) {
        for field in fields {
            hasher.combine(field.name)
            hasher.combine(field.value)
        }
    }

    /// The value of `name`, matched case-insensitively.
    public subscript(name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// As `HTTPFields`, to send.
    public var httpFields: HTTPFields {
        var fields = HTTPFields()
        for field in self.fields {
            if let name = HTTPField.Name(field.name) { fields.append(HTTPField(name: name, value: field.value)) }
        }
        return fields
    }
}

/// A webhook whose signature checked out.
public struct VerifiedWebhook: Sendable, Hashable {
    /// The message id (`webhook-id`) for Standard Webhooks; nil for Stripe, whose id is inside the payload.
    public var id: String?
    /// The signed timestamp.
    public var timestamp: Date
}

/// Signs and verifies webhook payloads for one ``WebhookSignatureScheme``.
///
/// ```swift
/// let signer = WebhookSigner(scheme: .standard)
/// let headers = try signer.sign(payload: body, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], id: "msg_1", timestamp: .now)
///
/// let verified = try signer.verify(payload: body, headers: requestHeaders, secrets: [current, previous])
/// ```
///
/// Verification is always over the raw bytes received, compares signatures in constant time (swift-crypto's
/// `HMAC.isValidAuthenticationCode`), accepts any of several secrets (rotation) and any of several signatures
/// in the header, and rejects timestamps outside `tolerance` either way.
public struct WebhookSigner: Sendable {
    public let scheme: WebhookSignatureScheme
    /// The largest age (or clock skew into the future) accepted; Stripe's and Standard Webhooks' default is 5 minutes.
    public let tolerance: Duration

    public init(scheme: WebhookSignatureScheme, tolerance: Duration = .seconds(300)) {
        self.scheme = scheme
        self.tolerance = tolerance
    }

    /// The signature headers for `payload`, one signature per secret (several during a rotation overlap).
    ///
    /// - Parameters:
    ///   - id: the message id (Standard Webhooks only; required there).
    /// - Throws: ``WebhookVerificationError`` with ``WebhookVerificationError/Code/invalidSecret`` for a malformed secret.
    public func sign(payload: some DataProtocol, secrets: [String], id: String? = nil, timestamp: Date) throws -> WebhookSignatureHeaders {
        let seconds = Int64(timestamp.timeIntervalSince1970.rounded(.down))
        switch scheme {
        case .stripe:
            let signed = Self.concatenate("\(seconds).", payload)
            let signatures = secrets.map { secret in
                "v1=" + Self.hex(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8))))
            }
            return WebhookSignatureHeaders(fields: [("Stripe-Signature", (["t=\(seconds)"] + signatures).joined(separator: ","))])
        case .standard:
            guard let id, !id.isEmpty else {
                throw WebhookVerificationError(.invalidSecret, "Standard Webhooks signatures need a message id")
            }
            let signed = Self.concatenate("\(id).\(seconds).", payload)
            let signatures = try secrets.map { secret in
                "v1," + Data(HMAC<SHA256>.authenticationCode(for: signed, using: try Self.standardKey(secret))).base64EncodedString()
            }
            return WebhookSignatureHeaders(fields: [
                ("webhook-id", id),
                ("webhook-timestamp", "\(seconds)"),
                ("webhook-signature", signatures.joined(separator: " ")),
            ])
        }
    }

    /// Checks `payload` against the signature `headers`, under any of `secrets`.
    ///
    /// - Parameters:
    ///   - headers: looked up case-insensitively by name.
    ///   - now: the current time (inject it in tests).
    /// - Throws: ``WebhookVerificationError`` saying exactly what is wrong.
    public func verify(
        payload: some DataProtocol,
        headers: (String) -> String?,
        secrets: [String],
        now: Date = Date()
    ) throws -> VerifiedWebhook {
        switch scheme {
        case .stripe:
            guard let header = headers("Stripe-Signature") else {
                throw WebhookVerificationError(.missingHeader, "Stripe-Signature header is missing")
            }
            let (timestamp, signatures) = try Self.parseStripeHeader(header)
            try checkTolerance(timestamp, now: now)
            let signed = Self.concatenate("\(timestamp).", payload)
            for secret in secrets {
                let key = SymmetricKey(data: Data(secret.utf8))
                for signature in signatures where HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) {
                    return VerifiedWebhook(id: nil, timestamp: Date(timeIntervalSince1970: TimeInterval(timestamp)))
                }
            }
            throw WebhookVerificationError(.noMatchingSignature, "no v1 signature in Stripe-Signature matches the payload")
        case .standard:
            guard let id = headers("webhook-id") else { throw WebhookVerificationError(.missingHeader, "webhook-id header is missing") }
            guard let timestampText = headers("webhook-timestamp") else {
                throw WebhookVerificationError(.missingHeader, "webhook-timestamp header is missing")
            }
            guard let signatureHeader = headers("webhook-signature") else {
                throw WebhookVerificationError(.missingHeader, "webhook-signature header is missing")
            }
            guard !id.isEmpty else { throw WebhookVerificationError(.malformedHeader, "webhook-id is empty") }
            guard let timestamp = Int64(timestampText.trimmingCharacters(in: .whitespaces)) else {
                throw WebhookVerificationError(.malformedHeader, "webhook-timestamp '\(timestampText.prefix(32))' is not a Unix timestamp")
            }
            try checkTolerance(timestamp, now: now)
            let signatures = try Self.parseStandardSignatures(signatureHeader)
            let keys = try secrets.map(Self.standardKey)
            let signed = Self.concatenate("\(id).\(timestamp).", payload)
            for key in keys {
                for signature in signatures where HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) {
                    return VerifiedWebhook(id: id, timestamp: Date(timeIntervalSince1970: TimeInterval(timestamp)))
                }
            }
            throw WebhookVerificationError(.noMatchingSignature, "no v1 signature in webhook-signature matches the payload")
        }
    }

    /// ``verify(payload:headers:secrets:now:)`` with headers from `HTTPFields`.
    public func verify(payload: some DataProtocol, headers: HTTPFields, secrets: [String], now: Date = Date()) throws -> VerifiedWebhook {
        try verify(payload: payload, headers: { name in HTTPField.Name(name).flatMap { headers[$0] } }, secrets: secrets, now: now)
    }

    private func checkTolerance(_ timestamp: Int64, now: Date) throws {
        let age = now.timeIntervalSince1970 - TimeInterval(timestamp)
        let limit = Double(tolerance.components.seconds)
        if age > limit {
            throw WebhookVerificationError(.timestampOutsideTolerance, "timestamp is \(Int(age)) s old, more than the tolerance of \(Int(limit)) s")
        }
        if -age > limit {
            throw WebhookVerificationError(.timestampOutsideTolerance, "timestamp is \(Int(-age)) s in the future, more than the tolerance of \(Int(limit)) s")
        }
    }

    // MARK: Parsing

    static func parseStripeHeader(_ header: String) throws -> (timestamp: Int64, signatures: [Data]) {
        var timestamp: Int64?
        var signatures: [Data] = []
        for item in header.split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "t":
                guard let value = Int64(pair[1]) else {
                    throw WebhookVerificationError(.malformedHeader, "Stripe-Signature timestamp '\(pair[1].prefix(32))' is not a Unix timestamp")
                }
                timestamp = value
            case "v1":
                // A v1 entry that is not 64 hex digits cannot match; skip it like Stripe's libraries do.
                if let bytes = hexBytes(pair[1]), bytes.count == SHA256.byteCount { signatures.append(bytes) }
            default:
                continue  // v0 and unknown schemes are ignored
            }
        }
        guard let timestamp else { throw WebhookVerificationError(.malformedHeader, "Stripe-Signature has no t= timestamp") }
        guard !signatures.isEmpty else { throw WebhookVerificationError(.malformedHeader, "Stripe-Signature has no valid v1 signature") }
        return (timestamp, signatures)
    }

    static func parseStandardSignatures(_ header: String) throws -> [Data] {
        var signatures: [Data] = []
        for item in header.split(separator: " ") where !item.isEmpty {
            let parts = item.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1" else { continue }  // other versions are ignored
            if let bytes = Data(base64Encoded: String(parts[1])) { signatures.append(bytes) }
        }
        guard !signatures.isEmpty else {
            throw WebhookVerificationError(.malformedHeader, "webhook-signature has no valid 'v1,<base64>' signature")
        }
        return signatures
    }

    /// The HMAC key of a Standard Webhooks secret: the base64 after `whsec_` (padding optional, as in the
    /// reference libraries).
    static func standardKey(_ secret: String) throws -> SymmetricKey {
        var encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        encoded = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = encoded.count % 4
        if remainder != 0 { encoded += String(repeating: "=", count: 4 - remainder) }
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else {
            throw WebhookVerificationError(.invalidSecret, "a Standard Webhooks secret must be 'whsec_' followed by base64")
        }
        return SymmetricKey(data: bytes)
    }

    static func concatenate(_ prefix: String, _ payload: some DataProtocol) -> Data {
        var data = Data(prefix.utf8)
        data.append(contentsOf: payload)
        return data
    }

    static func hex(_ code: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var result = [UInt8]()
        for byte in code {
            result.append(digits[Int(byte >> 4)])
            result.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: result, as: UTF8.self)
    }

    static func hexBytes(_ text: String) -> Data? {
        guard text.count % 2 == 0 else { return nil }
        var bytes = Data(capacity: text.count / 2)
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = nibble(high), let l = nibble(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A new random Standard Webhooks secret: `whsec_` + 24 random bytes in base64.
    public static func generateStandardSecret() -> String {
        "whsec_" + Data(SymmetricKey(size: .init(bitCount: 192)).withUnsafeBytes { Array($0) }).base64EncodedString()
    }

    /// A new message id in the `msg_` + 27 base62 characters shape Svix uses.
    public static func generateMessageID() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return "msg_" + String((0..<27).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
