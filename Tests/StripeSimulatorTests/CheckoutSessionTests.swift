import Foundation
import HTTPTypes
import HummingbirdTesting
import InterchangeTesting
import StripeSimulator
import Testing

@Suite(.timeLimit(.minutes(1)))
struct CheckoutSessionTests {
    @Test func aCreatedSessionHasStripesShapeAndCanBeRetrieved() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let session = try await client.createSession()
                let id = try #require(session["id"]?.string)
                #expect(id.hasPrefix("cs_test_"))
                #expect(session["object"]?.string == "checkout.session")
                #expect(session["amount_total"]?.int == 1500)
                #expect(session["amount_subtotal"]?.int == 1500)
                #expect(session["currency"]?.string == "usd")
                #expect(session["status"]?.string == "open")
                #expect(session["payment_status"]?.string == "unpaid")
                #expect(session["mode"]?.string == "payment")
                #expect(session["client_reference_id"]?.string == "ord_1")
                #expect(session["metadata"]?["order_id"]?.string == "ord_1")
                #expect(session["livemode"]?.bool == false)
                #expect(session.isNull("payment_intent"))
                #expect(session.isNull("customer"))
                #expect(session["url"]?.string == "http://127.0.0.1:9/checkout/pay/\(id)")
                #expect(session["success_url"]?.string == "http://shop.test/success?session_id={CHECKOUT_SESSION_ID}")
                #expect(session["expires_at"]?.int == Int(harness.clock.date.timeIntervalSince1970) + 24 * 3600)

                let retrieved = try await client.stripe(.get, "/v1/checkout/sessions/\(id)")
                #expect(retrieved.status == .ok)
                #expect(try retrieved.json["id"]?.string == id)
                #expect(retrieved.header("Request-Id")?.hasPrefix("req_") == true)
            }
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct CheckoutSessionListTests {
    @Test func listsAreNewestFirstAndPageWithCursorsBothWays() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                var ids: [String] = []
                for index in 0..<5 { ids.append(try #require(try await client.createSession(order: "ord_\(index)")["id"]?.string)) }
                let newestFirst = Array(ids.reversed())

                let first = try await client.stripe(.get, "/v1/checkout/sessions", "limit=2").json
                #expect(first["object"]?.string == "list")
                #expect(first["url"]?.string == "/v1/checkout/sessions")
                #expect(first["has_more"]?.bool == true)
                #expect(first["data"]?.array.compactMap { $0["id"]?.string } == Array(newestFirst[0..<2]))

                let second = try await client.stripe(.get, "/v1/checkout/sessions", "limit=2&starting_after=\(newestFirst[1])").json
                #expect(second["data"]?.array.compactMap { $0["id"]?.string } == Array(newestFirst[2..<4]))
                #expect(second["has_more"]?.bool == true)

                let last = try await client.stripe(.get, "/v1/checkout/sessions", "limit=2&starting_after=\(newestFirst[3])").json
                #expect(last["data"]?.array.compactMap { $0["id"]?.string } == [newestFirst[4]])
                #expect(last["has_more"]?.bool == false)

                let before = try await client.stripe(.get, "/v1/checkout/sessions", "limit=2&ending_before=\(newestFirst[4])").json
                #expect(before["data"]?.array.compactMap { $0["id"]?.string } == Array(newestFirst[2..<4]))
                #expect(before["has_more"]?.bool == true)
            }
        }
    }

    @Test func limitMustBeAnIntegerFrom1To100() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                for (limit, code) in [("abc", "parameter_invalid_integer"), ("0", "parameter_invalid_integer"), ("101", "parameter_invalid_integer")]
                {
                    let response = try await client.stripe(.get, "/v1/checkout/sessions", "limit=\(limit)")
                    #expect(response.status == .badRequest)
                    #expect(try response.json["error"]?["param"]?.string == "limit")
                    #expect(try response.json["error"]?["code"]?.string == code)
                }
                #expect(try await client.stripe(.get, "/v1/checkout/sessions", "limit=100").status == .ok)
            }
        }
    }

    @Test func listsFilterByStatus() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let open = try #require(try await client.createSession(order: "a")["id"]?.string)
                let expired = try #require(try await client.createSession(order: "b")["id"]?.string)
                #expect(try await client.stripe(.post, "/v1/checkout/sessions/\(expired)/expire").status == .ok)
                let listed = try await client.stripe(.get, "/v1/checkout/sessions", "status=open").json
                #expect(listed["data"]?.array.compactMap { $0["id"]?.string } == [open])
            }
        }
    }

    @Test func lineItemsAreAListInTheOrderGivenWithPriceAndProduct() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let session = try await client.createSession(
                    extra: "&line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=250"
                        + "&line_items[1][price_data][product_data][name]=Tea&line_items[1][quantity]=2"
                )
                #expect(session["amount_total"]?.int == 2000)
                let id = try #require(session["id"]?.string)
                let items = try await client.stripe(.get, "/v1/checkout/sessions/\(id)/line_items").json
                #expect(items["object"]?.string == "list")
                #expect(items["url"]?.string == "/v1/checkout/sessions/\(id)/line_items")
                let data = items["data"]?.array ?? []
                #expect(data.compactMap { $0["description"]?.string } == ["Blue mug", "Tea"])
                #expect(data.first?["object"]?.string == "item")
                #expect(data.first?["id"]?.string?.hasPrefix("li_") == true)
                #expect(data.first?["quantity"]?.int == 3)
                #expect(data.first?["amount_total"]?.int == 1500)
                #expect(data.first?["price"]?["unit_amount"]?.int == 500)
                #expect(data.first?["price"]?["product"]?.string?.hasPrefix("prod_") == true)

                let expanded = try await client.stripe(.get, "/v1/checkout/sessions/\(id)", "expand[]=line_items").json
                #expect(expanded["line_items"]?["data"]?.array.count == 2)
            }
        }
    }

    @Test func expiringAnOpenSessionRecordsAnEventAndASecondExpireIsRefused() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                let expired = try await client.stripe(.post, "/v1/checkout/sessions/\(id)/expire")
                #expect(expired.status == .ok)
                #expect(try expired.json["status"]?.string == "expired")
                #expect(try expired.json.isNull("url"))
                let again = try await client.stripe(.post, "/v1/checkout/sessions/\(id)/expire")
                #expect(again.status == .badRequest)
                #expect(try again.json["error"]?["type"]?.string == "invalid_request_error")

                let events = try await client.stripe(.get, "/v1/events", "type=checkout.session.expired").json
                let event = try #require(events["data"]?.array.first)
                #expect(event["data"]?["object"]?["id"]?.string == id)
                #expect(event["request"]?["id"]?.string == expired.header("Request-Id"))
            }
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ErrorObjectTests {
    @Test func aMissingParameterIsNamedInParam() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let response = try await client.stripe(
                    .post,
                    "/v1/checkout/sessions",
                    "mode=payment&success_url=http%3A%2F%2Fx.test%2F&line_items[0][price_data][currency]=usd"
                        + "&line_items[0][price_data][unit_amount]=100&line_items[0][quantity]=1"
                )
                #expect(response.status == .badRequest)
                let error = try #require(try response.json["error"])
                #expect(error["type"]?.string == "invalid_request_error")
                #expect(error["code"]?.string == "parameter_missing")
                #expect(error["param"]?.string == "line_items[0][price_data][product_data][name]")
                #expect(error["message"]?.string == "Missing required param: line_items[0][price_data][product_data][name].")
            }
        }
    }

    @Test func aNonIntegerQuantityIsParameterInvalidInteger() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let response = try await client.stripe(
                    .post,
                    "/v1/checkout/sessions",
                    "mode=payment&success_url=http%3A%2F%2Fx.test%2F&line_items[0][price_data][currency]=usd"
                        + "&line_items[0][price_data][unit_amount]=100&line_items[0][price_data][product_data][name]=X&line_items[0][quantity]=two"
                )
                #expect(response.status == .badRequest)
                #expect(try response.json["error"]?["code"]?.string == "parameter_invalid_integer")
                #expect(try response.json["error"]?["param"]?.string == "line_items[0][quantity]")
            }
        }
    }

    @Test func missingTopLevelParametersAndUnknownOnesAreNamed() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let noMode = try await client.stripe(.post, "/v1/checkout/sessions", "success_url=http%3A%2F%2Fx.test%2F")
                #expect(try noMode.json["error"]?["param"]?.string == "mode")
                let noItems = try await client.stripe(.post, "/v1/checkout/sessions", "mode=payment&success_url=http%3A%2F%2Fx.test%2F")
                #expect(try noItems.json["error"]?["param"]?.string == "line_items")
                let unknown = try await client.stripe(.post, "/v1/checkout/sessions", "mode=payment&colour=blue")
                #expect(unknown.status == .badRequest)
                #expect(try unknown.json["error"]?["code"]?.string == "parameter_unknown")
                #expect(try unknown.json["error"]?["param"]?.string == "colour")
            }
        }
    }

    @Test func expiresAtOutside30MinutesTo24HoursIsRefused() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let now = Int(harness.clock.date.timeIntervalSince1970)
                for expiresAt in [now + 600, now + 25 * 3600] {
                    let response = try await client.stripe(
                        .post,
                        "/v1/checkout/sessions",
                        "mode=payment&success_url=http%3A%2F%2Fx.test%2F&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=100"
                            + "&line_items[0][price_data][product_data][name]=X&line_items[0][quantity]=1&expires_at=\(expiresAt)"
                    )
                    #expect(response.status == .badRequest)
                    #expect(try response.json["error"]?["param"]?.string == "expires_at")
                }
                let ok = try await client.createSession(extra: "&expires_at=\(now + 1800)")
                #expect(ok["expires_at"]?.int == now + 1800)
            }
        }
    }

    @Test func anUnknownObjectIs404ResourceMissing() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let response = try await client.stripe(.get, "/v1/checkout/sessions/cs_test_nope")
                #expect(response.status == .notFound)
                let error = try #require(try response.json["error"])
                #expect(error["code"]?.string == "resource_missing")
                #expect(error["param"]?.string == "id")
                #expect(error["message"]?.string == "No such checkout.session: 'cs_test_nope'")
                for path in ["/v1/payment_intents/pi_x", "/v1/refunds/re_x", "/v1/events/evt_x", "/v1/customers/cus_x", "/v1/charges/ch_x"] {
                    #expect(try await client.stripe(.get, path).status == .notFound, "\(path)")
                }
            }
        }
    }

    @Test func anUnknownURLIsStripes404() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let response = try await client.stripe(.get, "/v1/subscriptions")
                #expect(response.status == .notFound)
                #expect(try response.json["error"]?["message"]?.string?.hasPrefix("Unrecognized request URL (GET: /v1/subscriptions).") == true)
            }
        }
    }
}
