import Foundation
import HTTPTypes
import HummingbirdTesting
import InterchangeTesting
import Testing

@testable import StripeSimulator

@Suite(.timeLimit(.minutes(1)))
struct IdempotencyKeyTests {
    @Test func theSameKeyAndParametersReplayTheFirstResponse() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let first = try await client.createSession(idempotencyKey: "order-1-attempt-1")
                let form =
                    "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=500"
                    + "&line_items[0][price_data][product_data][name]=Blue+mug&line_items[0][quantity]=3"
                    + "&success_url=http%3A%2F%2Fshop.test%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D&cancel_url=http%3A%2F%2Fshop.test%2Fcancel"
                    + "&client_reference_id=ord_1&metadata[order_id]=ord_1&payment_intent_data[metadata][order_id]=ord_1"
                let replay = try await client.stripe(.post, "/v1/checkout/sessions", form, idempotencyKey: "order-1-attempt-1")
                #expect(replay.status == .ok)
                #expect(replay.header("Idempotent-Replayed") == "true")
                #expect(try replay.json["id"]?.string == first["id"]?.string)
                let listed = try await client.stripe(.get, "/v1/checkout/sessions").json
                #expect(listed["data"]?.array.count == 1)
            }
        }
    }

    @Test func theSameKeyWithOtherParametersIsAnIdempotencyError() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                _ = try await client.createSession(order: "ord_1", idempotencyKey: "k1")
                let form =
                    "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=999"
                    + "&line_items[0][price_data][product_data][name]=X&line_items[0][quantity]=1&success_url=http%3A%2F%2Fx.test%2F"
                let response = try await client.stripe(.post, "/v1/checkout/sessions", form, idempotencyKey: "k1")
                #expect(response.status == .badRequest)
                #expect(try response.json["error"]?["type"]?.string == "idempotency_error")
                #expect(try response.json["error"]?["message"]?.string?.contains("'k1'") == true)
            }
        }
    }

    @Test func keysAreScopedByAPIKey() async throws {
        try await SimulatorHarness.with { harness in
            // The same idempotency key under another API key is another request: it runs.
            #expect(
                runs(
                    harness.simulator.state.claimIdempotent(
                        scope: "sk_test_other",
                        key: "shared",
                        fingerprint: "x",
                        now: Int(harness.clock.date.timeIntervalSince1970)
                    )
                )
            )
            try await harness.test { client in
                let session = try await client.createSession(idempotencyKey: "shared")
                #expect(session["id"]?.string?.hasPrefix("cs_test_") == true)
            }
        }
    }

    @Test func aRequestWhileTheFirstWithTheSameKeyStillRunsIs409() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let form = "mode=payment&success_url=http%3A%2F%2Fx.test%2F"
                // The first request is mid-flight: its claim is taken and no response is stored yet.
                let fingerprint =
                    "POST /v1/checkout/sessions\n"
                    + (try StripeForm(decoding: form)).canonicalPairs.map { "\($0.key)=\($0.value)" }
                    .joined(separator: "&")
                #expect(
                    runs(
                        harness.simulator.state.claimIdempotent(
                            scope: testAPIKey,
                            key: "busy",
                            fingerprint: fingerprint,
                            now: Int(harness.clock.date.timeIntervalSince1970)
                        )
                    )
                )
                let response = try await client.stripe(.post, "/v1/checkout/sessions", form, idempotencyKey: "busy")
                #expect(response.status == .conflict)
                #expect(try response.json["error"]?["type"]?.string == "idempotency_error")
            }
        }
    }

    @Test func aValidationErrorIsNotStoredSoTheKeyCanBeRetriedWithFixedParameters() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let bad = try await client.stripe(.post, "/v1/checkout/sessions", "mode=payment", idempotencyKey: "retry-me")
                #expect(bad.status == .badRequest)
                let session = try await client.createSession(idempotencyKey: "retry-me")
                #expect(session["id"]?.string?.hasPrefix("cs_test_") == true)
            }
        }
    }

    @Test func aKeyIsForgottenAfter24Hours() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let first = try await client.createSession(order: "ord_1", idempotencyKey: "day-old")
                harness.clock.advance(by: .seconds(24 * 3600))
                let second = try await client.createSession(order: "ord_2", idempotencyKey: "day-old")
                #expect(second["id"]?.string != first["id"]?.string)
                #expect(second["client_reference_id"]?.string == "ord_2")
            }
        }
    }

    /// Sent together, they may or may not overlap in the handler; whichever way they interleave there is one session (the
    /// in-flight case itself is `aRequestWhileTheFirstWithTheSameKeyStillRunsIs409`).
    @Test func twentyRequestsSentTogetherWithOneKeyCreateOneSession() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                    for _ in 0..<20 {
                        group.addTask {
                            let form =
                                "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=500"
                                + "&line_items[0][price_data][product_data][name]=Mug&line_items[0][quantity]=1&success_url=http%3A%2F%2Fx.test%2F"
                            let response = try await client.stripe(.post, "/v1/checkout/sessions", form, idempotencyKey: "burst")
                            return (response.status, try? response.json["id"]?.string)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.allSatisfy { $0.0 == .ok || $0.0 == .conflict })
                #expect(Set(statuses.compactMap(\.1)).count == 1, "every answer with a body names the same session")
                let listed = try await client.stripe(.get, "/v1/checkout/sessions").json
                #expect(listed["data"]?.array.count == 1)
            }
        }
    }

    @Test func aStoredErrorIsReplayedToo() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                _ = try await client.stripe(.post, "/v1/checkout/sessions/\(id)/expire")
                let refused = try await client.stripe(.post, "/v1/checkout/sessions/\(id)/expire", idempotencyKey: "exp")
                #expect(refused.status == .badRequest)
                let replay = try await client.stripe(.post, "/v1/checkout/sessions/\(id)/expire", idempotencyKey: "exp")
                #expect(replay.status == .badRequest)
                #expect(replay.header("Idempotent-Replayed") == "true")
                #expect(replay.text == refused.text)
            }
        }
    }
}

/// Whether a claim lets the request run.
private func runs(_ claim: StripeSimulatorState.IdempotencyClaim) -> Bool {
    if case .run = claim { return true }
    return false
}
