import Crypto
import CryptoExtras
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import InterchangeCore
import InterchangeTesting
import NIOCore
import Testing

@testable import GatewayProxy

/// jwt with a `jwks_url`: the issuer's keys fetched from a real HTTP server on loopback, tokens made by hand with
/// swift-crypto; and EdDSA secrets.
@Suite("Gateway plugins: jwt with JWKS URLs and EdDSA", .timeLimit(.minutes(2)))
struct JWKSTests {
    static let first = P256.Signing.PrivateKey()
    static let second = P256.Signing.PrivateKey()
    static let ed = Curve25519.Signing.PrivateKey()
    static let hmacSecret = "an-oct-key-an-attacker-would-love-to-use"

    static func jwk(_ key: P256.Signing.PrivateKey, kid: String) -> [String: Any] {
        let raw = key.publicKey.rawRepresentation
        return [
            "kty": "EC", "crv": "P-256", "use": "sig", "kid": kid,
            "x": JWTPluginTests.base64URL(raw.prefix(32)), "y": JWTPluginTests.base64URL(raw.suffix(32)),
        ]
    }

    static func set(_ keys: [[String: Any]]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: ["keys": keys]), as: UTF8.self)
    }

    static func token(_ key: P256.Signing.PrivateKey, kid: String?, issuer: String = "idp") -> String {
        var header: [String: Any] = ["alg": "ES256", "typ": "JWT"]
        header["kid"] = kid
        let input = JWTPluginTests.json(header) + "." + JWTPluginTests.json(["iss": issuer, "sub": "u-1"])
        return input + "." + JWTPluginTests.base64URL(try! key.signature(for: Data(input.utf8)).rawRepresentation)
    }

    /// The published set (served with `status`) and how many times it was fetched.
    final class Issuer: Sendable {
        let body: LockedValue<String>
        let status = LockedValue(HTTPResponse.Status.ok)
        let fetches = LockedValue(0)
        init(_ body: String) { self.body = LockedValue(body) }

        var responder: AnyRequest {
            AnyRequest { _, _ in
                self.fetches.withLock { $0 += 1 }
                return Response(
                    status: self.status.value,
                    headers: [.contentType: "application/jwk-set+json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: self.body.value))
                )
            }
        }
    }

    func withIssuer(
        _ issuer: Issuer,
        now: LockedValue<Date>,
        _ body: (_ gateway: String) async throws -> Void
    ) async throws {
        let seen = LockedValue<[Seen]>([])
        try await LoopbackServer.run(issuer.responder) { idp in
            try await withUpstreams(1, seen: seen) { ports in
                let consumers = """
                    consumers:
                      - username: federated
                        jwt_secrets: [{key: idp, algorithm: ES256, jwks_url: "\(idp.baseURL)/.well-known/jwks.json"}]
                    """
                let yaml = GatewayPluginTests.yaml(upstream: ports[0], plugins: "  - name: jwt", consumers: consumers)
                try await withGateway(yaml, now: { now.value }) { _, gateway in try await body(gateway) }
            }
        }
    }

    @Test("the token's kid picks a key of the issuer's set; a rotation is picked up; unknown kids refetch at most every 30 s")
    func kidSelectionAndRotation() async throws {
        let oct: [String: Any] = ["kty": "oct", "kid": "k-oct", "k": JWTPluginTests.base64URL(Data(Self.hmacSecret.utf8))]
        let issuer = Issuer(Self.set([oct, Self.jwk(Self.first, kid: "k1")]))
        let now = LockedValue(JWTPluginTests.now)
        try await withIssuer(issuer, now: now) { gateway in
            func status(_ token: String) async throws -> (Int, String) {
                let response = try await call(.GET, "\(gateway)/", headers: [JWTPluginTests.bearer(token)])
                return (response.status, response.body)
            }
            #expect(try await status(Self.token(Self.first, kid: "k1")).0 == 200)
            #expect(try await status(Self.token(Self.first, kid: "k1")).0 == 200)
            #expect(issuer.fetches.value == 1, "the set is cached")
            #expect(try await status(Self.token(Self.second, kid: "k2")).0 == 401)
            #expect(issuer.fetches.value == 1, "an unknown kid just after a fetch does not fetch again")

            now.withLock { $0 = $0.addingTimeInterval(31) }
            let unknown = try await status(Self.token(Self.second, kid: "k2"))
            #expect(unknown.0 == 401 && unknown.1.contains("Unknown 'kid'"))
            #expect(issuer.fetches.value == 2, "an unknown kid fetches the set again")
            #expect(try await status(Self.token(Self.second, kid: "../../../etc/passwd")).0 == 401)
            #expect(try await status(Self.token(Self.second, kid: "' OR 1=1 --")).0 == 401)
            #expect(issuer.fetches.value == 2, "not again within 30 s, whatever kids tokens make up")

            // The symmetric key in the set is never a verification key: not for HS256, not for ES256.
            let hs = JWTPluginTests.token(
                ["iss": "idp"],
                header: ["alg": "HS256", "typ": "JWT", "kid": "k-oct"],
                signer: .hmac(Self.hmacSecret)
            )
            let confused = try await status(hs)
            #expect(confused.0 == 401 && confused.1.contains("Invalid algorithm"))
            #expect(try await status(Self.token(Self.first, kid: "k-oct")).0 == 401)

            // Rotation: the issuer now publishes only the second key.
            issuer.body.withLock { $0 = Self.set([Self.jwk(Self.second, kid: "k2")]) }
            now.withLock { $0 = $0.addingTimeInterval(31) }
            #expect(try await status(Self.token(Self.second, kid: "k2")).0 == 200)
            #expect(issuer.fetches.value == 3)
            #expect(try await status(Self.token(Self.first, kid: "k1")).0 == 401, "the retired key no longer verifies")
            #expect(try await status(Self.token(Self.second, kid: nil)).0 == 200, "no kid: the set's only key")
            let forged = Self.token(Self.first, kid: "k2")
            #expect(try await status(forged).0 == 401, "kid k2 with another key's signature")
        }
    }

    @Test("a set that cannot be fetched fails closed with 503; keys already held survive a failed refresh")
    func unavailableSet() async throws {
        let issuer = Issuer(Self.set([Self.jwk(Self.first, kid: "k1")]))
        issuer.status.withLock { $0 = .internalServerError }
        let now = LockedValue(JWTPluginTests.now)
        try await withIssuer(issuer, now: now) { gateway in
            let token = Self.token(Self.first, kid: "k1")
            let down = try await call(.GET, "\(gateway)/", headers: [JWTPluginTests.bearer(token)])
            #expect(down.status == 503)
            #expect(down.body.contains("https://interchange.dev/problems/jwks-unavailable"))
            #expect(try await call(.GET, "\(gateway)/", headers: [JWTPluginTests.bearer(token)]).status == 503)
            #expect(issuer.fetches.value == 1, "a failed fetch is not retried within 30 s")

            issuer.status.withLock { $0 = .ok }
            now.withLock { $0 = $0.addingTimeInterval(31) }
            #expect(try await call(.GET, "\(gateway)/", headers: [JWTPluginTests.bearer(token)]).status == 200)

            issuer.status.withLock { $0 = .badGateway }
            now.withLock { $0 = $0.addingTimeInterval(301) }  // the set is due for a refresh, which fails
            #expect(try await call(.GET, "\(gateway)/", headers: [JWTPluginTests.bearer(token)]).status == 200)
            #expect(issuer.fetches.value == 3)
        }
    }

    @Test("concurrent lookups while the set is being fetched share that one fetch, and all get the key")
    func singleFlight() async throws {
        let gate = AsyncStream<Void>.makeStream()
        let arrived = AsyncStream<Void>.makeStream()
        let fetches = LockedValue(0)
        let body = Self.set([Self.jwk(Self.first, kid: "k1")])
        let slowIssuer = AnyRequest { _, _ in
            fetches.withLock { $0 += 1 }
            arrived.continuation.yield()
            for await _ in gate.stream { break }  // held until the test lets it answer
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        try await LoopbackServer.run(slowIssuer) { idp in
            let keys = JWKSKeys(url: "\(idp.baseURL)/jwks", algorithm: .es256, now: { JWTPluginTests.now }, logger: LoopbackServer.quietLogger)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        if case .key = await keys.key(for: "k1") { return true }
                        return false
                    }
                }
                for await _ in arrived.stream { break }  // the fetch is under way, and held
                try await Task.sleep(for: .milliseconds(100))  // the other lookups arrive meanwhile
                gate.continuation.yield()
                let found = try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                #expect(found == 16)
            }
            #expect(fetches.value == 1)
            #expect(keys.fetchCount == 1)
        }
    }

    @Test("EdDSA (Ed25519) secrets verify their tokens and refuse tampered ones")
    func edDSA() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let pem = Self.ed.publicKey.pemRepresentation.split(separator: "\n").map { "          \($0)" }.joined(separator: "\n")
            let consumers = """
                consumers:
                  - username: ed
                    jwt_secrets:
                      - key: ed-issuer
                        algorithm: EdDSA
                        rsa_public_key: |
                \(pem)
                """
            let yaml = GatewayPluginTests.yaml(upstream: ports[0], plugins: "  - name: jwt", consumers: consumers)
            try await withGateway(yaml, now: { JWTPluginTests.now }) { _, gateway in
                let input = JWTPluginTests.json(["alg": "EdDSA", "typ": "JWT"]) + "." + JWTPluginTests.json(["iss": "ed-issuer"])
                let token = input + "." + JWTPluginTests.base64URL(try Self.ed.signature(for: Data(input.utf8)))
                let passed = try await call(.GET, "\(gateway)/", headers: [JWTPluginTests.bearer(token)])
                #expect(passed.status == 200)
                #expect(seen.value.last?.headers["x-consumer-username"] == "ed")
                let tampered = JWTPluginTests.json(["alg": "EdDSA", "typ": "JWT"]) + "." + JWTPluginTests.json(["iss": "ed-issuer", "admin": true])
                let forged = tampered + "." + token.split(separator: ".")[2]
                #expect(try await call(.GET, "\(gateway)/", headers: [JWTPluginTests.bearer(forged)]).status == 401)
            }
        }
    }

    @Test("jwks_url is checked on load: a URL, only for public-key algorithms, not beside rsa_public_key")
    func jwksURLValidation() {
        func problems(_ secret: String) -> String {
            let yaml = "_format_version: \"3.0\"\nconsumers:\n  - username: c\n    jwt_secrets: [\(secret)]\n"
            do {
                _ = try GatewayConfiguration.load(yaml: yaml)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(problems("{key: a, algorithm: RS256, jwks_url: 'ftp://idp/keys'}").contains("expected an http:// or https:// URL"))
        #expect(problems("{key: a, secret: s, jwks_url: 'https://idp/keys'}").contains("only for public-key algorithms"))
        #expect(problems("{key: a, algorithm: ES256}").contains("rsa_public_key (or jwks_url): required"))
        #expect(problems("{key: a, algorithm: RS256, jwks_url: 'https://idp/keys', rsa_public_key: x}").contains("not both"))
        #expect(problems("{key: a, algorithm: EdDSA, jwks_url: 'https://idp/keys'}").isEmpty)
    }
}
