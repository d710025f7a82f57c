import Crypto
import Foundation
import HTTPTypes
import Testing
import WebhooksInbound
import WebhooksOutbound
import WebhooksSigning

@Suite("Webhook signatures")
struct SignatureTests {
    let body = Data(#"{"id":"evt_1","type":"order.created","data":{"city":"Zürich"}}"#.utf8)
    let now = Date(timeIntervalSince1970: 1_767_225_600)

    func headers(_ signed: WebhookSignatureHeaders) -> (String) -> String? {
        { name in signed[name] }
    }

    @Test("Standard Webhooks: the specification's test vector")
    func standardTestVector() throws {
        // From the Standard Webhooks reference implementations' test suites.
        let signer = WebhookSigner(scheme: .standard)
        let signed = try signer.sign(
            payload: Data(#"{"test": 2432232314}"#.utf8),
            secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: Date(timeIntervalSince1970: 1_614_265_330)
        )
        #expect(signed["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(signed["webhook-timestamp"] == "1614265330")
    }

    @Test("Stripe: t=… and a lowercase hex HMAC-SHA256 over 't.body', keyed by the whole secret")
    func stripeFormat() throws {
        let secret = "whsec_test_abcdefghijklmnop"
        let signed = try WebhookSigner(scheme: .stripe).sign(payload: body, secrets: [secret], timestamp: now)
        let expected = HMAC<SHA256>.authenticationCode(for: Data("1767225600.".utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
        let hex = expected.map { String(format: "%02x", $0) }.joined()
        #expect(signed["Stripe-Signature"] == "t=1767225600,v1=\(hex)")
    }

    @Test("round trips verify for both schemes", arguments: WebhookSignatureScheme.allCases)
    func roundTrip(scheme: WebhookSignatureScheme) throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let signer = WebhookSigner(scheme: scheme)
        let signed = try signer.sign(payload: body, secrets: [secret], id: "msg_1", timestamp: now)
        let verified = try signer.verify(payload: body, headers: headers(signed), secrets: [secret], now: now.addingTimeInterval(10))
        #expect(verified.timestamp == now)
    }

    @Test("a tampered body, a wrong secret and garbage are rejected with the right error", arguments: WebhookSignatureScheme.allCases)
    func rejections(scheme: WebhookSignatureScheme) throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let signer = WebhookSigner(scheme: scheme)
        let signed = try signer.sign(payload: body, secrets: [secret], id: "msg_1", timestamp: now)
        var tampered = body
        tampered[tampered.startIndex + 10] ^= 0x01
        /// The verification error's code; verifying successfully, or failing with another error, is an issue.
        func code(_ verify: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> WebhookVerificationError.Code? {
            do {
                try verify()
                Issue.record("verification succeeded where it should have been rejected", sourceLocation: sourceLocation)
            } catch let error as WebhookVerificationError {
                return error.code
            } catch {
                Issue.record("expected a WebhookVerificationError, got \(error)", sourceLocation: sourceLocation)
            }
            return nil
        }
        #expect(code { _ = try signer.verify(payload: tampered, headers: headers(signed), secrets: [secret], now: now) } == .noMatchingSignature)
        #expect(
            code { _ = try signer.verify(payload: body, headers: headers(signed), secrets: ["whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldA=="], now: now) }
                == .noMatchingSignature
        )
        #expect(code { _ = try signer.verify(payload: body, headers: { _ in nil }, secrets: [secret], now: now) } == .missingHeader)
        #expect(code { _ = try signer.verify(payload: body, headers: { _ in "garbage" }, secrets: [secret], now: now) } == .malformedHeader)
    }

    @Test("timestamps outside the tolerance are rejected, in the past and in the future", arguments: WebhookSignatureScheme.allCases)
    func tolerance(scheme: WebhookSignatureScheme) throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let signer = WebhookSigner(scheme: scheme, tolerance: .seconds(300))
        let signed = try signer.sign(payload: body, secrets: [secret], id: "msg_1", timestamp: now)
        #expect(throws: Never.self) {
            try signer.verify(payload: body, headers: headers(signed), secrets: [secret], now: now.addingTimeInterval(300))
        }
        for skew in [301.0, -301.0] {
            #expect {
                try signer.verify(payload: body, headers: headers(signed), secrets: [secret], now: now.addingTimeInterval(skew))
            } throws: { ($0 as? WebhookVerificationError)?.code == .timestampOutsideTolerance }
        }
    }

    @Test(
        "rotation: several secrets sign, either verifies; a header with one bad signature still verifies",
        arguments: WebhookSignatureScheme.allCases
    )
    func rotation(scheme: WebhookSignatureScheme) throws {
        let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let new = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldA=="
        let stranger = "whsec_c29tZXRoaW5nIGVsc2UgZW50aXJlbHk="
        let signer = WebhookSigner(scheme: scheme)
        let signed = try signer.sign(payload: body, secrets: [new, old], id: "msg_1", timestamp: now)
        for accepted in [[old], [new], [stranger, new]] {
            #expect(try signer.verify(payload: body, headers: headers(signed), secrets: accepted, now: now).timestamp == now)
        }
        #expect {
            try signer.verify(payload: body, headers: headers(signed), secrets: [stranger], now: now)
        } throws: { ($0 as? WebhookVerificationError)?.code == .noMatchingSignature }

        // A bad signature — a well-formed HMAC under a secret the receiver does not hold — first in the header.
        let signatureHeader = scheme == .stripe ? "Stripe-Signature" : "webhook-signature"
        let bad = try #require(try signer.sign(payload: body, secrets: [stranger], id: "msg_1", timestamp: now)[signatureHeader])
        let good = try #require(signed[signatureHeader])
        let withBad =
            switch scheme {
            case .standard: "\(bad) \(good)"  // v1,<bad> v1,<new> v1,<old>
            case .stripe: bad + "," + good.split(separator: ",").dropFirst().joined(separator: ",")  // t=…,v1=<bad>,v1=<new>,v1=<old>
            }
        func replacingSignature(_ value: String) -> (String) -> String? {
            { name in name.lowercased() == signatureHeader.lowercased() ? value : signed[name] }
        }
        #expect {
            try signer.verify(payload: body, headers: replacingSignature(bad), secrets: [old], now: now)
        } throws: { ($0 as? WebhookVerificationError)?.code == .noMatchingSignature }
        for accepted in [[old], [new]] {
            #expect(try signer.verify(payload: body, headers: replacingSignature(withBad), secrets: accepted, now: now).timestamp == now)
        }
    }

    @Test("signatures are found among others: unknown versions, short or non-hex entries, uppercase hex, spaces")
    func lenientHeaderShapes() throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let stripe = WebhookSigner(scheme: .stripe)
        let stripeSigned = try stripe.sign(payload: body, secrets: [secret], timestamp: now)["Stripe-Signature"]!
        let hex = String(stripeSigned.split(separator: "v1=")[1])
        for header in [
            "t=1767225600, v0=abc, v1=\(String(repeating: "0", count: 64)), v1=\(hex.uppercased())",
            "v1=zz,t=1767225600,v1=\(hex),",
        ] {
            _ = try stripe.verify(payload: body, headers: { _ in header }, secrets: [secret], now: now)
        }
        #expect { try stripe.verify(payload: body, headers: { _ in "t=1767225600,v1=\(hex.dropLast())" }, secrets: [secret], now: now) } throws: {
            ($0 as? WebhookVerificationError)?.code == .malformedHeader
        }

        let standard = WebhookSigner(scheme: .standard)
        let standardSigned = try standard.sign(payload: body, secrets: [secret], id: "msg_1", timestamp: now)
        let signature = standardSigned["webhook-signature"]!
        let fields = ["webhook-id": "msg_1", "webhook-timestamp": "1767225600"]
        for header in ["v2,abcd v1,AAAA \(signature)", "\(signature) v1,\(String(repeating: "A", count: 43))="] {
            _ = try standard.verify(payload: body, headers: { fields[$0] ?? header }, secrets: [secret], now: now)
        }
        #expect { try standard.verify(payload: body, headers: { fields[$0] ?? "v1,AAAA" }, secrets: [secret], now: now) } throws: {
            ($0 as? WebhookVerificationError)?.code == .noMatchingSignature
        }
        #expect { try standard.verify(payload: body, headers: { fields[$0] ?? "v1,not base64!" }, secrets: [secret], now: now) } throws: {
            ($0 as? WebhookVerificationError)?.code == .malformedHeader
        }
    }

    @Test("Standard Webhooks secrets without base64 padding work, as in the reference libraries")
    func unpaddedSecret() throws {
        let padded = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldA=="
        let unpadded = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldA"
        let signer = WebhookSigner(scheme: .standard)
        let signed = try signer.sign(payload: body, secrets: [padded], id: "msg_1", timestamp: now)
        _ = try signer.verify(payload: body, headers: headers(signed), secrets: [unpadded], now: now)
        #expect { try signer.sign(payload: body, secrets: ["whsec_!!!"], id: "m", timestamp: now) } throws: {
            ($0 as? WebhookVerificationError)?.code == .invalidSecret
        }
    }

    @Test("error descriptions never contain the secret or the signature")
    func noSecretsInErrors() throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let signer = WebhookSigner(scheme: .stripe)
        let signed = try signer.sign(payload: body, secrets: [secret], timestamp: now)
        let error = #expect(throws: WebhookVerificationError.self) {
            try signer.verify(payload: Data("x".utf8), headers: headers(signed), secrets: [secret], now: now)
        }
        let text = "\(try #require(error))"
        #expect(!text.contains(secret))
        #expect(!text.contains(try #require(signed["Stripe-Signature"]).dropFirst(15)))
    }
}
