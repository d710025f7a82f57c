import Crypto
import Foundation
import HTTPTypes
import InterchangeCore

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

/// Secrets prepared for verification: decoded, and with the HMAC key already absorbed.
///
/// Build once with ``WebhookSigner/verificationKeys(for:)`` and reuse for every delivery until the secrets change.
public struct WebhookVerificationKeys: Sendable {
    let scheme: WebhookSignatureScheme
    let hmacs: [HMAC<SHA256>]
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
/// Verification is always over the raw bytes received; each secret's MAC is computed once, incrementally, without
/// copying the payload, encoded as the header encodes it, and compared with every signature in the header in
/// constant time. It accepts any of several secrets (rotation) and any of several signatures in the header, and
/// rejects timestamps outside `tolerance` either way.
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
        let payload = payload as? Data ?? Data(payload)
        let seconds = Int64(timestamp.timeIntervalSince1970.rounded(.down))
        switch scheme {
        case .stripe:
            let signatures = secrets.map { secret in
                "v1=" + Self.hex(Self.mac(prefix: Array("\(seconds).".utf8), payload: payload, key: SymmetricKey(data: Array(secret.utf8))))
            }
            return WebhookSignatureHeaders(fields: [("Stripe-Signature", (["t=\(seconds)"] + signatures).joined(separator: ","))])
        case .standard:
            guard let id, !id.isEmpty else {
                throw WebhookVerificationError(.invalidSecret, "Standard Webhooks signatures need a message id")
            }
            let signatures = try secrets.map { secret in
                "v1,"
                    + Data(Self.mac(prefix: Array("\(id).\(seconds).".utf8), payload: payload, key: try Self.standardKey(secret)))
                    .base64EncodedString()
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
        try verify(data: Self.data(payload), header: { headers($0.name) }, keys: verificationKeys(for: secrets), now: now)
    }

    /// ``verify(payload:headers:secrets:now:)`` with headers from `HTTPFields`.
    public func verify(payload: some DataProtocol, headers: HTTPFields, secrets: [String], now: Date = Date()) throws -> VerifiedWebhook {
        try verify(data: Self.data(payload), header: { Self.value(of: $0.field, in: headers) }, keys: verificationKeys(for: secrets), now: now)
    }

    /// Verification with keys prepared once by ``verificationKeys(for:)``: the hot path for a receiver, which
    /// skips decoding the secrets and absorbing the HMAC pads on every delivery.
    public func verify(payload: some DataProtocol, headers: HTTPFields, keys: WebhookVerificationKeys, now: Date = Date()) throws -> VerifiedWebhook {
        try verify(data: Self.data(payload), header: { Self.value(of: $0.field, in: headers) }, keys: keys, now: now)
    }

    /// Keys for `secrets`, ready to verify with.
    ///
    /// - Throws: ``WebhookVerificationError`` with ``WebhookVerificationError/Code/invalidSecret`` for a malformed secret.
    public func verificationKeys(for secrets: [String]) throws -> WebhookVerificationKeys {
        let keys = try secrets.map { secret in
            scheme == .standard ? try Self.standardKey(secret) : SymmetricKey(data: Array(secret.utf8))
        }
        return WebhookVerificationKeys(scheme: scheme, hmacs: keys.map { HMAC<SHA256>(key: $0) })
    }

    /// The signature headers, by the names the schemes give them.
    enum SignatureHeader {
        case stripeSignature, webhookID, webhookTimestamp, webhookSignature

        var name: String {
            switch self {
            case .stripeSignature: "Stripe-Signature"
            case .webhookID: "webhook-id"
            case .webhookTimestamp: "webhook-timestamp"
            case .webhookSignature: "webhook-signature"
            }
        }

        var field: HTTPField.Name {
            switch self {
            case .stripeSignature: Self.stripeSignatureField
            case .webhookID: Self.webhookIDField
            case .webhookTimestamp: Self.webhookTimestampField
            case .webhookSignature: Self.webhookSignatureField
            }
        }

        static let stripeSignatureField = HTTPField.Name("Stripe-Signature")!
        static let webhookIDField = HTTPField.Name("webhook-id")!
        static let webhookTimestampField = HTTPField.Name("webhook-timestamp")!
        static let webhookSignatureField = HTTPField.Name("webhook-signature")!
    }

    /// The value of a header, repeated fields joined with ", " as `HTTPFields`' own subscript does — which
    /// builds a new string even for a single field, a cost that shows on a per-delivery path.
    private static func value(of name: HTTPField.Name, in headers: HTTPFields) -> String? {
        var value: String?
        for field in headers where field.name == name {
            value = value.map { $0 + ", " + field.value } ?? field.value
        }
        return value
    }

    /// The payload as `Data` without copying when it already is (one non-generic implementation: generic code
    /// called across modules is not specialised, and its metadata lookups cost more than hashing a small payload).
    private static func data(_ payload: some DataProtocol) -> Data {
        payload as? Data ?? Data(payload)
    }

    private func verify(data payload: Data, header: (SignatureHeader) -> String?, keys: WebhookVerificationKeys, now: Date) throws -> VerifiedWebhook
    {
        guard keys.scheme == scheme else {
            throw WebhookVerificationError(.invalidSecret, "the keys were prepared for the \(keys.scheme) scheme, not \(scheme)")
        }
        switch scheme {
        case .stripe:
            guard var value = header(.stripeSignature) else {
                throw WebhookVerificationError(.missingHeader, "Stripe-Signature header is missing")
            }
            // The header's own bytes are parsed and compared in place: no array of decoded signatures is built.
            let timestamp = try value.withUTF8 { bytes -> Int64? in
                let timestamp = try Self.stripeTimestamp(bytes)
                try checkTolerance(timestamp, now: now)
                for prepared in keys.hmacs {
                    var hmac = prepared
                    Self.updatePrefix(&hmac, id: nil, timestamp: timestamp)
                    hmac.update(data: payload)
                    if Self.stripeHeader(bytes, contains: hmac.finalize()) { return timestamp }
                }
                return nil
            }
            guard let timestamp else {
                throw WebhookVerificationError(.noMatchingSignature, "no v1 signature in Stripe-Signature matches the payload")
            }
            return VerifiedWebhook(id: nil, timestamp: Date(timeIntervalSince1970: TimeInterval(timestamp)))
        case .standard:
            guard let id = header(.webhookID) else { throw WebhookVerificationError(.missingHeader, "webhook-id header is missing") }
            guard let timestampText = header(.webhookTimestamp) else {
                throw WebhookVerificationError(.missingHeader, "webhook-timestamp header is missing")
            }
            guard var signatureHeader = header(.webhookSignature) else {
                throw WebhookVerificationError(.missingHeader, "webhook-signature header is missing")
            }
            guard !id.isEmpty else { throw WebhookVerificationError(.malformedHeader, "webhook-id is empty") }
            guard let timestamp = Self.integer(Self.trimmed(timestampText.utf8)) else {
                throw WebhookVerificationError(.malformedHeader, "webhook-timestamp '\(timestampText.prefix(32))' is not a Unix timestamp")
            }
            try checkTolerance(timestamp, now: now)
            let matched = try signatureHeader.withUTF8 { bytes -> Bool in
                try Self.checkStandardSignatures(bytes)
                for prepared in keys.hmacs {
                    var hmac = prepared
                    Self.updatePrefix(&hmac, id: id, timestamp: timestamp)
                    hmac.update(data: payload)
                    if Self.standardHeader(bytes, contains: hmac.finalize()) { return true }
                }
                return false
            }
            guard matched else {
                throw WebhookVerificationError(.noMatchingSignature, "no v1 signature in webhook-signature matches the payload")
            }
            return VerifiedWebhook(id: id, timestamp: Date(timeIntervalSince1970: TimeInterval(timestamp)))
        }
    }

    /// Feeds `"<id>.<timestamp>."` (or `"<timestamp>."` without an id) in one call, from a stack buffer: each
    /// `HMAC.update` crosses into swift-crypto's unspecialised generic code, which costs more than the bytes.
    private static func updatePrefix(_ hmac: inout HMAC<SHA256>, id: String?, timestamp: Int64) {
        var id = id
        let idCount = id?.utf8.count ?? 0
        var digitCount = 1
        var rest = max(0, timestamp) / 10
        while rest > 0 {
            digitCount += 1
            rest /= 10
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: idCount + digitCount + 2) { buffer in
            var end = 0
            if idCount > 0 {
                id?.withUTF8 { bytes in
                    for byte in bytes {
                        buffer[end] = byte
                        end += 1
                    }
                }
                buffer[end] = UInt8(ascii: ".")
                end += 1
            }
            var remaining = max(0, timestamp)
            for position in stride(from: end + digitCount - 1, through: end, by: -1) {
                buffer[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            }
            end += digitCount
            buffer[end] = UInt8(ascii: ".")
            end += 1
            hmac.update(data: UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[0..<end])))
        }
    }

    private func checkTolerance(_ timestamp: Int64, now: Date) throws {
        let age = now.timeIntervalSince1970 - TimeInterval(timestamp)
        let limit = Double(tolerance.components.seconds)
        if age > limit {
            throw WebhookVerificationError(.timestampOutsideTolerance, "timestamp is \(Int(age)) s old, more than the tolerance of \(Int(limit)) s")
        }
        if -age > limit {
            throw WebhookVerificationError(
                .timestampOutsideTolerance,
                "timestamp is \(Int(-age)) s in the future, more than the tolerance of \(Int(limit)) s"
            )
        }
    }

    // MARK: Parsing

    /// The HMAC key of a Standard Webhooks secret: the base64 after `whsec_` (padding optional and URL-safe
    /// characters accepted, as in the reference libraries).
    package static func standardKey(_ secret: String) throws -> SymmetricKey {
        var encoded = Array(secret.utf8.dropFirst(secret.hasPrefix("whsec_") ? 6 : 0))
        for index in encoded.indices {
            if encoded[index] == UInt8(ascii: "-") { encoded[index] = UInt8(ascii: "+") }
            if encoded[index] == UInt8(ascii: "_") { encoded[index] = UInt8(ascii: "/") }
        }
        while encoded.count % 4 != 0 { encoded.append(UInt8(ascii: "=")) }
        guard let bytes = Data(base64Encoded: Data(encoded)), !bytes.isEmpty else {
            throw WebhookVerificationError(.invalidSecret, "a Standard Webhooks secret must be 'whsec_' followed by base64")
        }
        return SymmetricKey(data: bytes)
    }

    /// `bytes` without leading and trailing ASCII spaces and tabs.
    static func trimmed<C: BidirectionalCollection>(_ bytes: C) -> C.SubSequence where C.Element == UInt8 {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let start = bytes.firstIndex { !isSpace($0) } ?? bytes.endIndex
        let end = bytes[start...].lastIndex { !isSpace($0) }.map { bytes.index(after: $0) } ?? start
        return bytes[start..<end]
    }

    /// A non-negative decimal integer of at most 18 digits, or nil.
    static func integer<C: Collection>(_ digits: C) -> Int64? where C.Element == UInt8 {
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value: Int64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        return value
    }

    /// HMAC-SHA256 of `prefix` followed by `payload`, without copying the payload.
    static func mac(prefix: [UInt8], payload: Data, key: SymmetricKey) -> HMAC<SHA256>.MAC {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: prefix)
        hmac.update(data: payload)
        return hmac.finalize()
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

    /// A new random Standard Webhooks secret: `whsec_` + 24 random bytes in base64.
    public static func generateStandardSecret() -> String {
        "whsec_" + Data(SymmetricKey(size: .init(bitCount: 192)).withUnsafeBytes { Array($0) }).base64EncodedString()
    }

    /// A new message id in the `msg_` + 27 base62 characters shape Svix uses.
    public static func generateMessageID() -> String {
        RandomIdentifier.make(prefix: "msg", length: 27)
    }
}
