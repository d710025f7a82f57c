import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import InterchangeCore
import JWTKit
import Logging

/// Kong's `jwt`: a signed token (from `uri_param_names`, `cookie_names` or a `Bearer` value in `header_names`) whose
/// `key_claim_name` claim (`iss` by default; the header's field of that name when the claims lack it) names one of
/// the consumers' `jwt_secrets`. The secret pins the algorithm: a token whose header says otherwise — `none`, or
/// `HS256` signed with an RSA public key as its HMAC secret — is refused before any signature is checked, and the
/// signature is then checked with that secret's key alone (jwt-kit), whatever `kid` the token names. Then the
/// `claims_to_verify` (`exp`, `nbf`), `maximum_expiration` and, past Kong OSS, `allowed_audiences` (`aud`).
///
/// A secret with a `jwks_url` (Interchange's, in place of `rsa_public_key`) takes its keys from the issuer's JWK Set
/// (``JWKSKeys``): the secret still pins the algorithm, and the token's `kid` picks among the set's keys for it. When
/// the set cannot be fetched and no keys are held, the answer is 503 (fail closed).
///
/// On success the consumer is set with `X-Consumer-*` and `X-Credential-Identifier` (the secret's id, else its key);
/// on failure `401` problem+json with `WWW-Authenticate: Bearer`, or the `anonymous` consumer.
struct JWTPlugin: GatewayPlugin {
    struct Credential: Sendable {
        let consumer: EntityIndex<Consumer>
        let identifier: String
        let algorithm: JWTSecret.Algorithm
        let keys: Keys
    }

    enum Keys: Sendable {
        /// The one key that can verify this credential's tokens.
        case fixed(JWTKeyCollection)
        /// The issuer's published keys.
        case published(JWKSKeys)
    }

    let configuration: JWTConfiguration
    /// Each secret by its `key`.
    let credentials: [String: Credential]
    let consumers: [Consumer]
    let anonymous: EntityIndex<Consumer>?
    let now: @Sendable () -> Date

    init(
        _ configuration: JWTConfiguration,
        gateway: GatewayConfiguration,
        now: @escaping @Sendable () -> Date,
        logger: Logger = Logger(label: "interchange.gateway")
    ) async throws {
        self.configuration = configuration
        self.consumers = gateway.consumers
        self.now = now
        self.anonymous = try gateway.anonymousConsumer(configuration.anonymous, plugin: "jwt")
        var credentials: [String: Credential] = [:]
        // Secrets naming the same set (and algorithm) share its cache.
        var sets: [String: JWKSKeys] = [:]
        for (position, consumer) in gateway.consumers.enumerated() {
            for (index, secret) in consumer.jwtSecrets.enumerated() {
                let field = "consumers[\(position)].jwt_secrets[\(index)]"
                let keys: Keys
                if let url = secret.jwksURL {
                    let shared =
                        sets["\(secret.algorithm.rawValue) \(url)"] ?? JWKSKeys(url: url, algorithm: secret.algorithm, now: now, logger: logger)
                    sets["\(secret.algorithm.rawValue) \(url)"] = shared
                    keys = .published(shared)
                } else {
                    keys = .fixed(try await Self.keys(for: secret, base64: configuration.secretIsBase64, field: field))
                }
                credentials[secret.key] = Credential(
                    consumer: EntityIndex(position),
                    identifier: secret.id ?? secret.key,
                    algorithm: secret.algorithm,
                    keys: keys
                )
            }
        }
        self.credentials = credentials
    }

    /// A collection holding only `secret`'s key, as its default: jwt-kit then verifies with it whatever the token's
    /// `kid`, and never with another consumer's key.
    private static func keys(for secret: JWTSecret, base64: Bool, field: String) async throws -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        let digest: DigestAlgorithm
        switch secret.algorithm {
        case .hs256, .rs256, .ps256, .es256: digest = .sha256
        case .hs384, .rs384, .ps384, .es384: digest = .sha384
        case .hs512, .rs512, .ps512, .es512, .edDSA: digest = .sha512
        }
        if secret.algorithm.isHMAC {
            guard let value = secret.secret?.value, !value.isEmpty else {
                throw ConfigurationError(field: "\(field).secret", reason: "required for \(secret.algorithm.rawValue)")
            }
            let bytes: [UInt8]
            if base64 {
                guard let decoded = Data(base64Encoded: value) else {
                    throw ConfigurationError(field: "\(field).secret", reason: "not base64, and the jwt plugin sets secret_is_base64")
                }
                bytes = Array(decoded)
            } else {
                bytes = Array(value.utf8)
            }
            // RFC 7518 §3.2: an HMAC key at least as long as the hash (Kong accepts shorter ones; jwt-kit does not).
            let minimum = secret.algorithm == .hs256 ? 32 : secret.algorithm == .hs384 ? 48 : 64
            guard bytes.count >= minimum else {
                throw ConfigurationError(
                    field: "\(field).secret",
                    reason: "\(bytes.count) bytes is too short for \(secret.algorithm.rawValue): at least \(minimum) (RFC 7518 §3.2)"
                )
            }
            await keys.add(hmac: HMACKey(from: bytes), digestAlgorithm: digest)
            return keys
        }
        let field = "\(field).rsa_public_key"
        guard let pem = secret.rsaPublicKey else { throw ConfigurationError(field: field, reason: "required for \(secret.algorithm.rawValue)") }
        do {
            switch secret.algorithm {
            case .rs256, .rs384, .rs512: await keys.add(rsa: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: digest)
            case .ps256, .ps384, .ps512: await keys.add(pss: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: digest)
            case .es256: await keys.add(ecdsa: try ES256PublicKey(pem: pem))
            case .es384: await keys.add(ecdsa: try ES384PublicKey(pem: pem))
            case .es512: await keys.add(ecdsa: try ES512PublicKey(pem: pem))
            case .edDSA: await keys.add(eddsa: try EdDSA.PublicKey(pem: pem))
            case .hs256, .hs384, .hs512:
                throw ConfigurationError(field: field, reason: "\(secret.algorithm.rawValue) is not supported")
            }
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(field: field, reason: "not a \(secret.algorithm.rawValue) public key in PEM: \(error)")
        }
        return keys
    }

    func access(_ context: inout PluginContext) async throws -> Response? {
        if context.head.method == .options && !configuration.runOnPreflight { return nil }
        let tokens = Self.tokens(in: context, configuration)
        guard tokens.count <= 1 else { return fail(&context, "Multiple tokens provided", invalid: true) }
        guard let token = tokens.first else { return fail(&context, "Unauthorized", invalid: false) }
        let parsed: UnverifiedToken
        do {
            parsed = try UnverifiedToken(token)
        } catch let error as UnverifiedToken.Malformed {
            return fail(&context, "Bad token; \(error.reason)", invalid: true)
        }
        let claimName = configuration.keyClaimName
        guard let keyValue = parsed.claims[claimName] ?? parsed.header[claimName] else {
            return fail(&context, "No mandatory '\(claimName)' in claims", invalid: true)
        }
        guard case .string(let key) = keyValue, !key.isEmpty else { return fail(&context, "Invalid '\(claimName)' in claims", invalid: true) }
        guard let credential = credentials[key] else {
            return fail(&context, "No credentials found for given '\(claimName)'", invalid: true)
        }
        guard parsed.algorithm == credential.algorithm.rawValue else { return fail(&context, "Invalid algorithm", invalid: true) }
        let keys: JWTKeyCollection
        switch credential.keys {
        case .fixed(let fixed): keys = fixed
        case .published(let published):
            let kid: String?
            switch parsed.header["kid"] {
            case nil: kid = nil
            case .string(let value)?: kid = value
            default: return fail(&context, "Invalid 'kid' in header", invalid: true)
            }
            switch await published.key(for: kid) {
            case .key(let found): keys = found
            case .unknownKid:
                return fail(&context, kid == nil ? "No 'kid' in header, and the issuer has several keys" : "Unknown 'kid'", invalid: true)
            case .unavailable:
                return GatewayProblem.response(
                    503,
                    "jwks-unavailable",
                    "Signing keys unavailable",
                    "the issuer's signing keys could not be fetched, so the token cannot be verified",
                    correlationID: context.correlationID
                )
            }
        }
        do {
            _ = try await keys.verify(token, as: SignatureOnly.self)
        } catch {
            return fail(&context, "Invalid signature", invalid: true)
        }
        if let problem = claimsProblem(parsed.claims) { return fail(&context, problem, invalid: true) }
        context.identify(credential.consumer, credential: credential.identifier, in: consumers)
        return nil
    }

    /// The first failed check of the registered claims, in Kong's words; nil when they pass.
    private func claimsProblem(_ claims: [String: JSONValue]) -> String? {
        let now = now().timeIntervalSince1970
        for claim in [JWTConfiguration.RegisteredClaim.exp, .nbf] where configuration.claimsToVerify.contains(claim) {
            guard let value = claims[claim.rawValue] else { return "'\(claim.rawValue)': must be a number (missing)" }
            guard case .number(let seconds) = value else { return "'\(claim.rawValue)': must be a number" }
            switch claim {
            case .exp where seconds <= now: return "'exp': token expired"
            case .nbf where seconds > now: return "'nbf': token not valid yet"
            default: break
            }
        }
        if configuration.maximumExpiration > 0, case .number(let exp) = claims["exp"], exp - now > configuration.maximumExpiration {
            return "'exp': exceeds maximum allowed expiration"
        }
        if let allowed = configuration.allowedAudiences {
            let audiences: [String]
            switch claims["aud"] {
            case .string(let single): audiences = [single]
            case .array(let many): audiences = many.compactMap { if case .string(let value) = $0 { value } else { nil } }
            default: return "'aud': missing, and the route requires one of \(allowed.joined(separator: ", "))"
            }
            if !audiences.contains(where: allowed.contains) { return "'aud': not an audience this route accepts" }
        }
        return nil
    }

    /// Every distinct non-empty token the request carries, in the query, cookies and `Bearer` headers.
    static func tokens(in context: PluginContext, _ configuration: JWTConfiguration) -> Set<String> {
        var tokens = Set<String>()
        for name in configuration.uriParamNames {
            if let token = context.queryParameter(name), !token.isEmpty { tokens.insert(token) }
        }
        if !configuration.cookieNames.isEmpty {
            for header in context.head.headerFields[values: .cookie] {
                for pair in header.split(separator: ";") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    let name = parts[0].trimmingCharacters(in: .whitespaces)
                    if configuration.cookieNames.contains(name), !parts[1].isEmpty { tokens.insert(String(parts[1])) }
                }
            }
        }
        for name in configuration.headerNames {
            guard let field = HTTPField.Name(name), let value = context.head.headerFields[field] else { continue }
            let trimmed = value.drop(while: \.isWhitespace)
            guard trimmed.lowercased().hasPrefix("bearer") else { continue }
            let token = trimmed.dropFirst("bearer".count)
            guard token.first?.isWhitespace == true else { continue }
            let bearer = token.trimmingCharacters(in: .whitespaces)
            if !bearer.isEmpty { tokens.insert(bearer) }
        }
        return tokens
    }

    private func fail(_ context: inout PluginContext, _ detail: String, invalid: Bool) -> Response? {
        if let anonymous {
            context.identifyAnonymously(anonymous, in: consumers)
            return nil
        }
        var challenge = configuration.realm.map { #"Bearer realm="\#($0)""# } ?? "Bearer"
        if invalid { challenge += #" error="invalid_token""# }
        return GatewayProblem.response(
            401,
            "unauthorized",
            "Unauthorized",
            detail,
            headers: [.wwwAuthenticate: challenge],
            correlationID: context.correlationID
        )
    }
}

/// What jwt-kit decodes once the signature holds: nothing (the claims are read from ``UnverifiedToken``, which the
/// signature now covers).
private struct SignatureOnly: JWTPayload {
    init(from decoder: any Decoder) throws {
        // A payload that is not a JSON object fails here.
        _ = try decoder.container(keyedBy: AnyKey.self)
    }
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// A compact JWS split and decoded, before anything about it is trusted.
struct UnverifiedToken {
    struct Malformed: Error { let reason: String }

    let header: [String: JSONValue]
    let claims: [String: JSONValue]
    let algorithm: String

    init(_ token: String) throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw Malformed(reason: "invalid JWT: expected 3 dot-separated parts") }
        guard let header = Self.object(parts[0]) else { throw Malformed(reason: "invalid header: not base64url-encoded JSON") }
        guard let claims = Self.object(parts[1]) else { throw Malformed(reason: "invalid claims: not base64url-encoded JSON") }
        guard case .string(let algorithm) = header["alg"] else { throw Malformed(reason: "invalid alg: missing") }
        if let type = header["typ"], type != .string("JWT"), type != .string("jwt") { throw Malformed(reason: "invalid typ") }
        self.header = header
        self.claims = claims
        self.algorithm = algorithm
    }

    private static func object(_ part: Substring) -> [String: JSONValue]? {
        var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        return try? JSONDecoder().decode([String: JSONValue].self, from: data)
    }
}
