import Crypto
import Foundation
import InterchangeCore

/// Encrypts endpoint signing secrets at rest with AES-256-GCM, so the database alone (a backup, a replica, a
/// leaked dump) does not reveal them.
///
/// A sealed value is `sealed:v1:` followed by the base64 of nonce, ciphertext and tag. The endpoint's id and the
/// column are authenticated with it, so a sealed secret copied onto another endpoint's row fails to open
/// rather than signing for the wrong endpoint. Values without the prefix are read as plaintext (rows written
/// before a key was configured); ``WebhookDeliveryEngine/prepare()`` seals those.
///
/// ```swift
/// var configuration = WebhookDeliveryEngine.Configuration()
/// configuration.secretSealer = try SecretSealer(base64Key: environment["INTERCHANGE_WEBHOOKS_SECRET_KEY"]!, field: "webhooks.secretKey")
/// ```
public struct SecretSealer: Sendable {
    static let prefix = "sealed:v1:"

    private let key: SymmetricKey?

    /// Stores secrets as they are. For tests and for deployments that encrypt the whole database instead.
    public static let plaintext = SecretSealer(key: nil)

    /// Seals with `key`, which must be 256 bits.
    public init(key: SymmetricKey) throws {
        try ConfigurationError.require(key.bitCount == 256, field: "secretSealer", "needs a 256-bit key", got: "\(key.bitCount) bits")
        self.key = key
    }

    /// Seals with a key given as base64 of 32 bytes (``generateKey()`` makes one).
    ///
    /// - Throws: ``ConfigurationError`` naming `field` when the value is not base64 of 32 bytes.
    public init(base64Key: String, field: String) throws {
        guard let bytes = Data(base64Encoded: base64Key.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw ConfigurationError(field: field, reason: "must be the base64 of 32 random bytes (e.g. `openssl rand -base64 32`)")
        }
        self.key = SymmetricKey(data: bytes)
    }

    private init(key: SymmetricKey?) {
        self.key = key
    }

    /// A new random key, base64-encoded.
    public static func generateKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Whether secrets are encrypted before they are stored.
    public var seals: Bool { key != nil }

    /// `secret` as it should be stored in `column` of endpoint `endpointID`.
    func seal(_ secret: String, endpointID: String, column: String) throws -> String {
        guard let key else { return secret }
        let box = try AES.GCM.seal(Data(secret.utf8), using: key, authenticating: Data("\(endpointID)/\(column)".utf8))
        guard let combined = box.combined else { throw SecretSealerError(endpointID: endpointID, reason: "sealing produced no output") }
        return Self.prefix + combined.base64EncodedString()
    }

    /// The secret stored as `stored` in `column` of endpoint `endpointID`.
    ///
    /// - Throws: ``SecretSealerError`` when the value is sealed and cannot be opened with this key.
    func open(_ stored: String, endpointID: String, column: String) throws -> String {
        guard stored.hasPrefix(Self.prefix) else { return stored }
        guard let key else {
            throw SecretSealerError(endpointID: endpointID, reason: "the secret is encrypted but no key is configured")
        }
        guard let combined = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
            let box = try? AES.GCM.SealedBox(combined: combined),
            let opened = try? AES.GCM.open(box, using: key, authenticating: Data("\(endpointID)/\(column)".utf8))
        else {
            throw SecretSealerError(
                endpointID: endpointID,
                reason: "the secret does not open with the configured key (wrong key, or the row was altered)"
            )
        }
        return String(decoding: opened, as: UTF8.self)
    }

    /// Whether `stored` is a sealed value rather than plaintext.
    static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }
}

/// A stored endpoint secret that cannot be read with the configured key.
public struct SecretSealerError: Error, CustomStringConvertible {
    public let endpointID: String
    public let reason: String
    public var description: String { "endpoint \(endpointID): \(reason)" }
}
