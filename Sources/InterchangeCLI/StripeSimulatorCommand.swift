import ArgumentParser
import AsyncHTTPClient
import Foundation
import StripeSimulator

/// `interchange stripe-sim …`: tools for the Stripe simulator of a running Interchange.
struct StripeSimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stripe-sim",
        abstract: "Drive the Stripe simulator of a running Interchange (like the Stripe CLI, against the simulator).",
        subcommands: [Trigger.self]
    )

    /// `interchange stripe-sim trigger <event-type>`: creates the objects through the API and makes the event happen.
    struct Trigger: AsyncCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the objects an event needs through the simulator's API and fire the event, like `stripe trigger`.",
            discussion: """
                Supported events: \(Self.fixtures.keys.sorted().joined(separator: ", ")).
                Examples:
                  interchange stripe-sim trigger checkout.session.completed
                  interchange stripe-sim trigger charge.refunded --sim http://127.0.0.1:8081
                """
        )

        @Argument(help: "The event type to fire.") var eventType: String
        @Option(help: "The simulator's base URL (its /v1 and /_sim are under it).")
        var sim: String = "http://127.0.0.1:8080\(StripeSimulator.embeddedBasePath)"
        @Option(name: .customLong("api-key"), help: "The simulator's API key. Env: INTERCHANGE_STRIPE_SIM_API_KEY.")
        var apiKey: String?

        /// What each event needs: a session, then a payment with a test card, then whatever makes the event happen.
        enum Step: Sendable {
            case pay(card: String)
            case settle(outcome: String)
            case expire
            case refund
        }

        static let fixtures: [String: [Step]] = [
            "checkout.session.completed": [.pay(card: "4242424242424242")],
            "payment_intent.succeeded": [.pay(card: "4242424242424242")],
            "payment_intent.payment_failed": [.pay(card: "4000000000000002")],
            "checkout.session.async_payment_succeeded": [.pay(card: "4000000000003220"), .settle(outcome: "succeeded")],
            "checkout.session.async_payment_failed": [.pay(card: "4000000000003220"), .settle(outcome: "failed")],
            "checkout.session.expired": [.expire],
            "charge.refunded": [.pay(card: "4242424242424242"), .refund],
        ]

        func validate() throws {
            guard Self.fixtures[eventType] != nil else {
                throw ValidationError(
                    "unsupported event type '\(eventType)'; supported: \(Self.fixtures.keys.sorted().joined(separator: ", "))"
                )
            }
            guard let url = URL(string: sim), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ValidationError("--sim '\(sim)' is not an http(s) URL")
            }
        }

        func execute() async throws {
            let base = sim.hasSuffix("/") ? String(sim.dropLast()) : sim
            let key =
                apiKey ?? ProcessInfo.processInfo.environment["INTERCHANGE_STRIPE_SIM_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
                ?? StripeSimulator.Configuration.defaultAPIKey
            let client = SimulatorClient(base: base, apiKey: key)
            let steps = Self.fixtures[eventType] ?? []

            print("Setting up fixture for: \(eventType)")
            let session = try await client.post(
                "/v1/checkout/sessions",
                [
                    ("mode", "payment"), ("line_items[0][price_data][currency]", "usd"), ("line_items[0][price_data][unit_amount]", "2000"),
                    ("line_items[0][price_data][product_data][name]", "Triggered item"), ("line_items[0][quantity]", "1"),
                    ("success_url", "https://example.com/success?session_id={CHECKOUT_SESSION_ID}"), ("cancel_url", "https://example.com/cancel"),
                    ("metadata[triggered_by]", "interchange stripe-sim trigger"),
                    ("payment_intent_data[metadata][triggered_by]", "interchange stripe-sim trigger"),
                ]
            )
            let sessionID = session["id"] as? String ?? ""
            print("  checkout.session \(sessionID)")
            var intentID: String?
            for step in steps {
                switch step {
                case .pay(let card):
                    let paid = try await client.post("/_sim/checkout/sessions/\(sessionID)/pay", [("card", card)], authenticated: false)
                    intentID = (paid["payment_intent"] as? [String: Any])?["id"] as? String
                    print("  paid with \(card): \(paid["outcome"] as? String ?? "?")\(intentID.map { " (\($0))" } ?? "")")
                case .settle(let outcome):
                    _ = try await client.post("/_sim/payments/settle", [("session", sessionID), ("outcome", outcome)], authenticated: false)
                    print("  settled: \(outcome)")
                case .expire:
                    _ = try await client.post("/v1/checkout/sessions/\(sessionID)/expire", [])
                    print("  expired")
                case .refund:
                    let refund = try await client.post("/v1/refunds", [("payment_intent", intentID ?? "")])
                    print("  refund \(refund["id"] as? String ?? "?")")
                }
            }
            let events = try await client.get("/v1/events?type=\(eventType)&limit=1")
            guard let event = (events["data"] as? [[String: Any]])?.first, let eventID = event["id"] as? String else {
                throw TriggerError("the simulator did not record a \(eventType) event")
            }
            print("Trigger succeeded! \(eventType) \(eventID)")
        }
    }
}

/// The few calls `trigger` makes, with the simulator's error message in what it throws.
private struct SimulatorClient {
    let base: String
    let apiKey: String

    func post(_ path: String, _ form: [(String, String)], authenticated: Bool = true) async throws -> [String: Any] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~[]")
        let body = form.map {
            "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)"
        }
        .joined(separator: "&")
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        if authenticated { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        request.body = .bytes(Array(body.utf8))
        return try await send(request, path: path)
    }

    func get(_ path: String) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        return try await send(request, path: path)
    }

    private func send(_ request: HTTPClientRequest, path: String) async throws -> [String: Any] {
        let response: HTTPClientResponse
        let data: Data
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
            data = Data(try await response.body.collect(upTo: 4 << 20).readableBytesView)
        } catch {
            throw TriggerError(
                "cannot reach the Stripe simulator at \(base) (\(error)); is `interchange up` or `interchange serve stripe-sim` running? Use --sim to point elsewhere."
            )
        }
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (200..<300).contains(Int(response.status.code)) else {
            let message = (json["error"] as? [String: Any])?["message"] as? String ?? String(decoding: data.prefix(300), as: UTF8.self)
            throw TriggerError("\(request.method.rawValue) \(path) answered \(response.status.code): \(message)")
        }
        return json
    }
}

/// Why a trigger failed, said plainly (printed as `Error: …`, exit status 1).
private struct TriggerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
