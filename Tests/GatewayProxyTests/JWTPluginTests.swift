import Crypto
import CryptoExtras
import Foundation
import Gateway
import InterchangeCore
import InterchangeTesting
import Testing

@testable import GatewayProxy

/// Tokens are made here by hand with swift-crypto (not with jwt-kit, which the plugin verifies with), so a test
/// does not share the implementation it checks.
@Suite("Gateway plugins: jwt, and the attacks on it", .timeLimit(.minutes(2)))
struct JWTPluginTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let ec = P256.Signing.PrivateKey()

    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func json(_ object: [String: Any]) -> String {
        base64URL(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    enum Signer {
        case hmac(String)
        case rsa
        case ec
        case none
    }

    static func token(_ claims: [String: Any], header: [String: Any] = ["alg": "HS256", "typ": "JWT"], signer: Signer) -> String {
        let input = json(header) + "." + json(claims)
        let data = Data(input.utf8)
        let signature: Data
        switch signer {
        case .hmac(let secret): signature = Data(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: Data(secret.utf8))))
        case .rsa: signature = try! rsa.signature(for: data, padding: .insecurePKCS1v1_5).rawRepresentation
        case .ec: signature = try! ec.signature(for: data).rawRepresentation
        case .none: signature = Data()
        }
        return input + "." + base64URL(signature)
    }

    static func bearer(_ token: String) -> (String, String) { ("Authorization", "Bearer \(token)") }

    static func consumers(alg rsaAlgorithm: String = "RS256") -> String {
        """
        consumers:
          - username: alice
            jwt_secrets: [{key: alice-issuer, secret: alice-hmac-secret-of-32-bytes-ok}]
          - username: rita
            jwt_secrets:
              - key: rita-issuer
                algorithm: \(rsaAlgorithm)
                rsa_public_key: |
        \(rsa.publicKey.pemRepresentation.split(separator: "\n").map { "          \($0)" }.joined(separator: "\n"))
          - username: eve
            jwt_secrets:
              - key: eve-issuer
                algorithm: ES256
                rsa_public_key: |
        \(ec.publicKey.pemRepresentation.split(separator: "\n").map { "          \($0)" }.joined(separator: "\n"))
          - username: guest
        """
    }

    /// Runs a gateway with the jwt plugin configured by `config` in front of an echo upstream.
    func withJWTGateway(
        _ config: String = "{}",
        _ body: (_ gateway: String, _ seen: LockedValue<[Seen]>) async throws -> Void
    ) async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = "  - name: jwt\n    config: \(config)"
            let yaml = GatewayPluginTests.yaml(upstream: ports[0], plugins: plugins, consumers: Self.consumers())
            try await withGateway(yaml, now: { Self.now }) { _, gateway in try await body(gateway, seen) }
        }
    }

    @Test("HS256, RS256 and ES256 tokens identify their consumers, from the Bearer header, the query or a cookie")
    func validTokens() async throws {
        try await withJWTGateway("{cookie_names: [session]}") { gateway, seen in
            let alice = Self.token(["iss": "alice-issuer", "sub": "1"], signer: .hmac("alice-hmac-secret-of-32-bytes-ok"))
            let rita = Self.token(["iss": "rita-issuer"], header: ["alg": "RS256", "typ": "JWT"], signer: .rsa)
            let eve = Self.token(["iss": "eve-issuer"], header: ["alg": "ES256"], signer: .ec)
            let byHeader = try await call(.GET, "\(gateway)/a", headers: [Self.bearer(alice)]).status
            let byQuery = try await call(.GET, "\(gateway)/b?jwt=\(rita)").status
            let byCookie = try await call(.GET, "\(gateway)/c", headers: [("Cookie", "theme=dark; session=\(eve)")]).status
            #expect([byHeader, byQuery, byCookie] == [Int](repeating: 200, count: 3))
            #expect(seen.value.map { $0.headers["x-consumer-username"] } == ["alice", "rita", "eve"])
            #expect(seen.value[0].headers["x-credential-identifier"] == "alice-issuer")
        }
    }

    @Test("no token, two different tokens, a malformed token and an unknown issuer are each 401 with a Bearer challenge")
    func missingAndMalformed() async throws {
        try await withJWTGateway("{realm: shop}") { gateway, seen in
            let alice = Self.token(["iss": "alice-issuer"], signer: .hmac("alice-hmac-secret-of-32-bytes-ok"))
            let other = Self.token(["iss": "alice-issuer", "n": 2], signer: .hmac("alice-hmac-secret-of-32-bytes-ok"))
            let cases: [(headers: [(String, String)], query: String, detail: String)] = [
                ([], "", "Unauthorized"),
                ([("Authorization", "Basic YTpi")], "", "Unauthorized"),
                ([Self.bearer(alice)], "?jwt=\(other)", "Multiple tokens provided"),
                ([Self.bearer("not-a-token")], "", "Bad token; invalid JWT"),
                ([Self.bearer("e30.e30.")], "", "Bad token; invalid alg: missing"),
                ([Self.bearer(Self.token(["sub": "1"], signer: .hmac("alice-hmac-secret-of-32-bytes-ok")))], "", "No mandatory 'iss' in claims"),
                ([Self.bearer(Self.token(["iss": 7], signer: .hmac("x")))], "", "Invalid 'iss' in claims"),
                ([Self.bearer(Self.token(["iss": "mallory"], signer: .hmac("x")))], "", "No credentials found for given 'iss'"),
            ]
            for (headers, query, detail) in cases {
                let response = try await call(.GET, "\(gateway)/\(query)", headers: headers)
                #expect(response.status == 401, "\(detail)")
                #expect(response.body.contains(detail), "\(response.body)")
                #expect(response.headers["WWW-Authenticate"].first?.hasPrefix(#"Bearer realm="shop""#) == true)
            }
            // The same token twice (header and query) is one token.
            let twice = try await call(.GET, "\(gateway)/?jwt=\(alice)", headers: [Self.bearer(alice)]).status
            #expect(twice == 200)
            #expect(seen.value.count == 1)
        }
    }

    @Test("attacks: alg none, HS256 signed with the RSA public key, a tampered payload, another consumer's key, a kid path")
    func attacks() async throws {
        try await withJWTGateway { gateway, seen in
            let publicPEM = Self.rsa.publicKey.pemRepresentation
            let attacks: [(name: String, token: String, detail: String)] = [
                ("alg none", Self.token(["iss": "alice-issuer"], header: ["alg": "none"], signer: .none), "Invalid algorithm"),
                ("alg None", Self.token(["iss": "rita-issuer"], header: ["alg": "None"], signer: .none), "Invalid algorithm"),
                (
                    "HS256 with the public key as the HMAC secret",
                    Self.token(["iss": "rita-issuer"], header: ["alg": "HS256"], signer: .hmac(publicPEM)), "Invalid algorithm"
                ),
                (
                    "RS256 header over an HMAC made with the public key",
                    Self.token(["iss": "rita-issuer"], header: ["alg": "RS256"], signer: .hmac(publicPEM)), "Invalid signature"
                ),
                (
                    "signed by alice's secret, naming rita's issuer",
                    Self.token(["iss": "rita-issuer"], header: ["alg": "RS256"], signer: .hmac("alice-hmac-secret-of-32-bytes-ok")),
                    "Invalid signature"
                ),
                (
                    "kid pointing at a file, signed with an empty key",
                    Self.token(["iss": "alice-issuer"], header: ["alg": "HS256", "kid": "../../../../dev/null"], signer: .hmac("")),
                    "Invalid signature"
                ),
                ("wrong secret", Self.token(["iss": "alice-issuer"], signer: .hmac("guess")), "Invalid signature"),
            ]
            for attack in attacks {
                let response = try await call(.GET, "\(gateway)/", headers: [Self.bearer(attack.token)])
                #expect(response.status == 401, "\(attack.name)")
                #expect(response.body.contains(attack.detail), "\(attack.name): \(response.body)")
                #expect(response.headers["WWW-Authenticate"] == [#"Bearer error="invalid_token""#])
            }

            // Tampered: a valid token whose payload is swapped for another's; the signature no longer covers it.
            let valid = Self.token(["iss": "alice-issuer", "role": "user"], signer: .hmac("alice-hmac-secret-of-32-bytes-ok"))
            var parts = valid.split(separator: ".").map(String.init)
            parts[1] = Self.json(["iss": "alice-issuer", "role": "admin"])
            let tampered = try await call(.GET, "\(gateway)/", headers: [Self.bearer(parts.joined(separator: "."))])
            #expect(tampered.status == 401)
            #expect(tampered.body.contains("Invalid signature"))
            #expect(seen.value.isEmpty, "no attack reached the upstream")

            let untouched = try await call(.GET, "\(gateway)/", headers: [Self.bearer(valid)]).status
            #expect(untouched == 200, "the same token, untampered, passes")
        }
    }

    @Test("a kid the key claim names must be a credential's key: an unknown or injected kid is 401")
    func unknownKid() async throws {
        try await withJWTGateway("{key_claim_name: kid}") { gateway, seen in
            for kid in ["unknown-key", "' OR '1'='1", "../../../../dev/null"] {
                let token = Self.token(["sub": "1"], header: ["alg": "HS256", "kid": kid], signer: .hmac(""))
                let response = try await call(.GET, "\(gateway)/", headers: [Self.bearer(token)])
                #expect(response.status == 401, "kid \(kid)")
                #expect(response.body.contains("No credentials found for given 'kid'"))
            }
            #expect(seen.value.isEmpty)
            let named = Self.token(["sub": "1"], header: ["alg": "HS256", "kid": "alice-issuer"], signer: .hmac("alice-hmac-secret-of-32-bytes-ok"))
            let status = try await call(.GET, "\(gateway)/", headers: [Self.bearer(named)]).status
            #expect(status == 200)
        }
    }

    @Test("claims: expired, not yet valid, beyond maximum_expiration, wrong audience and non-numeric exp are 401; in range passes")
    func registeredClaims() async throws {
        let config = "{claims_to_verify: [exp, nbf], maximum_expiration: 3600, allowed_audiences: [orders-api, shop]}"
        try await withJWTGateway(config) { gateway, seen in
            let now = Self.now.timeIntervalSince1970
            func token(_ claims: [String: Any]) -> String {
                Self.token(["iss": "alice-issuer"].merging(claims) { $1 }, signer: .hmac("alice-hmac-secret-of-32-bytes-ok"))
            }
            let valid: [String: Any] = ["exp": now + 60, "nbf": now - 60, "aud": "orders-api"]
            let cases: [(claims: [String: Any], detail: String)] = [
                (valid.merging(["exp": now]) { $1 }, "token expired"),
                (valid.merging(["exp": now - 1]) { $1 }, "token expired"),
                (valid.merging(["nbf": now + 1]) { $1 }, "token not valid yet"),
                (valid.merging(["exp": now + 3601]) { $1 }, "exceeds maximum allowed expiration"),
                (valid.merging(["exp": "tomorrow"]) { $1 }, "'exp': must be a number"),
                (valid.merging(["exp": true]) { $1 }, "'exp': must be a number"),
                (["nbf": now - 60, "aud": "orders-api"], "'exp': must be a number (missing)"),
                (valid.merging(["aud": "billing"]) { $1 }, "not an audience this route accepts"),
                (valid.merging(["aud": ["billing", "admin"]]) { $1 }, "not an audience this route accepts"),
                (valid.filter { $0.key != "aud" }, "'aud': missing"),
            ]
            for (claims, detail) in cases {
                let response = try await call(.GET, "\(gateway)/", headers: [Self.bearer(token(claims))])
                #expect(response.status == 401, "\(claims)")
                #expect(response.body.contains(detail), "\(claims): \(response.body)")
            }
            #expect(seen.value.isEmpty)
            let passing = [valid, valid.merging(["aud": ["billing", "shop"]]) { $1 }]
            for claims in passing {
                let status = try await call(.GET, "\(gateway)/", headers: [Self.bearer(token(claims))]).status
                #expect(status == 200, "\(claims)")
            }
        }
    }

    @Test("a failed token with anonymous set goes on as the anonymous consumer; OPTIONS skips the check when run_on_preflight is off")
    func anonymousAndPreflight() async throws {
        try await withJWTGateway("{anonymous: guest, run_on_preflight: false}") { gateway, seen in
            let bad = Self.token(["iss": "alice-issuer"], signer: .hmac("guess"))
            let status = try await call(.GET, "\(gateway)/", headers: [Self.bearer(bad)]).status
            #expect(status == 200)
            #expect(seen.value.first?.headers["x-consumer-username"] == "guest")
            #expect(seen.value.first?.headers["x-anonymous-consumer"] == "true")
        }
        try await withJWTGateway("{run_on_preflight: false}") { gateway, seen in
            let preflight = try await call(.OPTIONS, "\(gateway)/").status
            let get = try await call(.GET, "\(gateway)/").status
            #expect(preflight == 200)
            #expect(get == 401)
        }
    }

    @Test("an HMAC secret shorter than its hash, or a public key of another algorithm, stops start-up naming the secret")
    func badPublicKey() async throws {
        // An EC key where RS256 is declared.
        let yaml = """
            _format_version: "3.0"
            consumers:
              - username: rita
                jwt_secrets:
                  - key: rita-issuer
                    algorithm: RS256
                    rsa_public_key: |
            \(Self.ec.publicKey.pemRepresentation.split(separator: "\n").map { "          \($0)" }.joined(separator: "\n"))
            plugins:
              - name: jwt
            """
        let shortSecret = """
            _format_version: "3.0"
            consumers:
              - username: alice
                jwt_secrets: [{key: a, secret: only-17-bytes-ok}]
            plugins:
              - name: jwt
            """
        let short = try GatewayConfiguration.load(yaml: shortSecret)
        await #expect {
            _ = try await GatewayProxy(configuration: short, logger: LoopbackServer.quietLogger)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.field == "consumers[0].jwt_secrets[0].secret" && error.reason.contains("at least 32")
        }
        let configuration = try GatewayConfiguration.load(yaml: yaml)
        await #expect {
            _ = try await GatewayProxy(configuration: configuration, logger: LoopbackServer.quietLogger)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.field == "consumers[0].jwt_secrets[0].rsa_public_key" && error.reason.contains("not a RS256 public key")
        }
    }
}
