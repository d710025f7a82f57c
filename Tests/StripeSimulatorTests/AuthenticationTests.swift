import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StripeSimulator
import Testing

@Suite(.timeLimit(.minutes(1)))
struct AuthenticationTests {
    @Test func aBearerKeyAndABasicKeyAreBothAccepted() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                #expect(try await client.stripe(.get, "/v1/checkout/sessions").status == .ok)
                let basic = Data("\(testAPIKey):".utf8).base64EncodedString()
                let response = try await client.execute(
                    uri: "/v1/checkout/sessions",
                    method: .get,
                    headers: [.authorization: "Basic \(basic)"]
                )
                #expect(response.status == .ok)
            }
        }
    }

    @Test func aWrongKeyIs401WithStripesErrorObjectAndTheKeyMasked() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let response = try await client.stripe(.get, "/v1/checkout/sessions", key: "sk_test_wrongkey1234")
                #expect(response.status == .unauthorized)
                let error = try #require(try response.json["error"])
                #expect(error["type"]?.string == "invalid_request_error")
                #expect(error["message"]?.string == "Invalid API Key provided: sk_test_********1234")
                #expect(response.header("WWW-Authenticate") == "Basic realm=\"Stripe\"")
            }
        }
    }

    @Test func noKeyIs401SayingHowToProvideOne() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let response = try await client.stripe(.post, "/v1/checkout/sessions", "mode=payment", key: nil)
                #expect(response.status == .unauthorized)
                #expect(try response.json["error"]?["message"]?.string?.hasPrefix("You did not provide an API key.") == true)
            }
        }
    }

    @Test func theHostedPageAndControlsNeedNoKey() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let session = try await client.createSession()
                let id = try #require(session["id"]?.string)
                #expect(try await client.execute(uri: "/checkout/pay/\(id)", method: .get).status == .ok)
                #expect(try await client.execute(uri: "/_sim/", method: .get).status == .ok)
            }
        }
    }
}
