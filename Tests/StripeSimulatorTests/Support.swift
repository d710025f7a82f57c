import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import NIOCore
import ServiceRuntime
import StripeSimulator
import Testing
import WebhooksOutbound

let testAPIKey = StripeSimulator.Configuration.defaultAPIKey

/// A simulator on a manual clock with its own temporary delivery database, torn down after `body`.
struct SimulatorHarness: Sendable {
    let clock: ManualClock
    let simulator: StripeSimulator
    var engine: WebhookDeliveryEngine { simulator.engine }

    static func with<T: Sendable>(
        basePath: String = "",
        settlementDelay: Duration = .seconds(10),
        schedule: [Duration] = [.zero, .seconds(5)],
        maxBodySize: Int = 1 << 20,
        databasePath: String? = nil,
        _ body: (SimulatorHarness) async throws -> T
    ) async throws -> T {
        let clock = ManualClock()
        let logger = LoopbackServer.quietLogger
        let engine = try await StripeSimulator.makeDeliveryEngine(
            databasePath: databasePath,
            configuration: .init(schedule: schedule, jitter: 0, requestTimeout: .seconds(10)),
            clock: clock,
            now: clock.dateProvider,
            logger: logger
        )
        let simulator = StripeSimulator(
            configuration: .init(
                basePath: basePath,
                settlementDelay: settlementDelay,
                publicBaseURL: { "http://127.0.0.1:9" },
                maxBodySize: maxBodySize
            ),
            engine: engine,
            clock: clock,
            now: clock.dateProvider,
            runsEngine: false,
            logger: logger
        )
        try await simulator.prepare()
        let harness = SimulatorHarness(clock: clock, simulator: simulator)
        let result: Result<T, any Error>
        do { result = .success(try await body(harness)) } catch { result = .failure(error) }
        try? await engine.shutdown()
        try? await engine.store.database.shutdown()
        return try result.get()
    }

    /// `body` with a test client of the simulator's router.
    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        try simulator.addRoutes(to: router)
        try await Application(router: router).test(.router, body)
    }
}

/// A decoded JSON object, read by key path.
struct JSONObject: @unchecked Sendable {
    // @unchecked: holds only what JSONSerialization produced (immutable Foundation values), never mutated.
    let value: Any

    init(_ data: Data) throws {
        value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    init(value: Any) { self.value = value }

    subscript(_ key: String) -> JSONObject? {
        guard let dictionary = value as? [String: Any], let member = dictionary[key], !(member is NSNull) else { return nil }
        return JSONObject(value: member)
    }

    var string: String? { value as? String }
    var int: Int? { (value as? NSNumber)?.intValue }
    var bool: Bool? { (value as? NSNumber)?.boolValue }
    var array: [JSONObject] { (value as? [Any])?.map { JSONObject(value: $0) } ?? [] }
    var keys: Set<String> { Set((value as? [String: Any])?.keys.map { $0 } ?? []) }
    func isNull(_ key: String) -> Bool { ((value as? [String: Any])?[key]).map { $0 is NSNull } ?? false }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: JSONObject { get throws { try JSONObject(Data(buffer: body)) } }
    func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
}

extension TestClientProtocol {
    /// A Stripe API call as the SDKs send it: the key as a bearer token, parameters form-encoded in the body
    /// (POST) or the query (GET, DELETE).
    func stripe(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ form: String = "",
        key: String? = testAPIKey,
        idempotencyKey: String? = nil
    ) async throws -> TestResponse {
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Bearer \(key)" }
        if let idempotencyKey { headers[HTTPField.Name("Idempotency-Key")!] = idempotencyKey }
        if method == .post {
            headers[.contentType] = "application/x-www-form-urlencoded"
            return try await execute(uri: path, method: method, headers: headers, body: ByteBuffer(string: form))
        }
        return try await execute(uri: form.isEmpty ? path : "\(path)?\(form)", method: method, headers: headers)
    }

    /// Creates a one-line $15.00 session (quantity 3 × 500) for order `order`, and returns its JSON.
    func createSession(order: String = "ord_1", extra: String = "", idempotencyKey: String? = nil) async throws -> JSONObject {
        let form =
            [
                "mode=payment",
                "line_items[0][price_data][currency]=usd",
                "line_items[0][price_data][unit_amount]=500",
                "line_items[0][price_data][product_data][name]=Blue+mug",
                "line_items[0][quantity]=3",
                "success_url=http%3A%2F%2Fshop.test%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D",
                "cancel_url=http%3A%2F%2Fshop.test%2Fcancel",
                "client_reference_id=\(order)",
                "metadata[order_id]=\(order)",
                "payment_intent_data[metadata][order_id]=\(order)",
            ].joined(separator: "&") + extra
        let response = try await stripe(.post, "/v1/checkout/sessions", form, idempotencyKey: idempotencyKey)
        #expect(response.status == .ok, "\(response.text)")
        return try response.json
    }
}
