import Foundation
import FulfillmentEvents
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import Messaging
import NIOCore
import Persistence
import ServiceRuntime
import Testing

@testable import FulfillmentPayments

/// The generated payments API through a real router (HummingbirdTesting), behind `ProblemMiddleware` as the
/// server runs it: its document, payments as the handlers recorded them, the provider switch, and problem+json
/// naming the parameter or field for what it refuses.
@Suite(.timeLimit(.minutes(1)))
struct PaymentsAPITests {
    typealias H = PaymentsHarness

    static func withAPI(
        _ kind: TestDatabase.Kind,
        provider: (any PaymentProvider)? = nil,
        _ body: @Sendable (PaymentsComponent, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestDatabase.with(kind) { database in
            let transport = EmbeddedTransport(database: database, logger: H.logger)
            let payments = try await PaymentsComponent.make(
                database: database,
                transport: transport,
                logger: H.logger,
                provider: provider,
                closesDatabase: false
            )
            let router = Router(context: BasicRequestContext.self)
            router.add(middleware: ProblemMiddleware())
            try payments.addRoutes(to: router)
            try await Application(router: router).test(.router) { client in try await body(payments, client) }
        }
    }

    /// The body as a JSON object; empty when it is not one (the expectations on it then fail, naming the key).
    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
    }

    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    @Test func servesItsOwnOpenAPIDocument() async throws {
        try await Self.withAPI(.sqlite) { _, client in
            try await client.execute(uri: "/payments/api/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains("operationId: setProvider"))
                #expect(text.contains("/payments/api/payments/{paymentId}"))
            }
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func listsAndGetsThePaymentsTheHandlersRecorded(kind: TestDatabase.Kind) async throws {
        try await Self.withAPI(kind) { payments, client in
            let command = ChargePayment(orderId: "o-api-1", userId: "u-1", amountCents: 990, currency: "usd")
            let processed = try H.only(try await payments.processor.handle(try H.event(command)), as: PaymentProcessed.self)
            _ = try await payments.processor.handle(try H.event(ChargePayment(orderId: "o-api-2", userId: "u-2", amountCents: 120, currency: "usd")))
            try await client.execute(uri: "/payments/api/payments?orderId=o-api-1", method: .get) { response in
                #expect(response.status == .ok)
                let data = Self.json(response.body)["data"] as? [[String: Any]] ?? []
                #expect(data.count == 1)
                #expect(data.first?["id"] as? String == processed.paymentId)
                #expect(data.first?["status"] as? String == "charged")
                #expect(data.first?["amountCents"] as? Int == 990)
                #expect(data.first?["provider"] as? String == "simulated")
                #expect((data.first?["providerPaymentId"] as? String)?.hasPrefix("sim_pi_") == true)
            }
            try await client.execute(uri: "/payments/api/payments", method: .get) { response in
                #expect((Self.json(response.body)["data"] as? [[String: Any]])?.count == 2)
            }
            try await client.execute(uri: "/payments/api/payments/\(processed.paymentId)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["orderId"] as? String == "o-api-1")
            }
        }
    }

    @Test func anUnknownPaymentIs404AndABadIdOrOrderIdIs400NamingTheParameter() async throws {
        try await Self.withAPI(.sqlite) { _, client in
            try await client.execute(uri: "/payments/api/payments/pay_" + String(repeating: "0", count: 32), method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/payments/api/payments/nope", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(Self.json(response.body)["parameter"] as? String == "paymentId")
            }
            try await client.execute(uri: "/payments/api/payments?orderId=bad%20id", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(Self.json(response.body)["parameter"] as? String == "orderId")
            }
            try await client.execute(uri: "/payments/api/payments?limit=0", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(Self.json(response.body)["parameter"] as? String == "limit")
            }
        }
    }

    @Test func theSwitchChangesWhatTheNextChargeDoes() async throws {
        let provider = SimulatedPaymentProvider()
        try await Self.withAPI(.sqlite, provider: provider) { payments, client in
            try await client.execute(
                uri: "/payments/api/provider",
                method: .put,
                headers: Self.jsonHeaders,
                body: ByteBuffer(string: #"{"mode":"decline","latencyMs":0}"#)
            ) { response in
                #expect(response.status == .ok)
                let body = Self.json(response.body)
                #expect(body["name"] as? String == "simulated")
                #expect(body["mode"] as? String == "decline")
            }
            let command = ChargePayment(orderId: "o-sw-1", userId: "u-1", amountCents: 500, currency: "usd")
            let failed = try H.only(try await payments.processor.handle(try H.event(command)), as: PaymentFailed.self)
            #expect(failed.declineCode == "card_declined")
            try await client.execute(
                uri: "/payments/api/provider",
                method: .put,
                headers: Self.jsonHeaders,
                body: ByteBuffer(string: #"{"mode":"ok","latencyMs":15}"#)
            ) { response in
                #expect(response.status == .ok)
            }
            #expect(provider.settings == .init(mode: .ok, latency: .milliseconds(15)))
            try await client.execute(uri: "/payments/api/provider", method: .get) { response in
                let body = Self.json(response.body)
                #expect(body["mode"] as? String == "ok")
                #expect(body["latencyMs"] as? Int == 15)
                #expect(body["charges"] as? Int == 0)
            }
        }
    }

    @Test(arguments: [
        (#"{"mode":"sometimes"}"#, "mode"), (#"{"mode":"ok","latencyMs":-1}"#, "latencyMs"),
        (#"{"mode":"ok","latencyMs":60001}"#, "latencyMs"), (#"{"latencyMs":5}"#, "mode"),
    ])
    func aBadSwitchIs400NamingTheField(body: String, field: String) async throws {
        let provider = SimulatedPaymentProvider()
        try await Self.withAPI(.sqlite, provider: provider) { _, client in
            try await client.execute(uri: "/payments/api/provider", method: .put, headers: Self.jsonHeaders, body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(Self.json(response.body)["field"] as? String == field)
            }
            #expect(provider.settings == .init())
        }
    }
}
