import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import InterchangeTesting
import NIOCore
import Persistence
import ServiceRuntime
import StripeSimulator
import Synchronization
import Testing

@testable import Shop

/// The shop as `interchange serve shop` runs it — its routes behind `ProblemMiddleware`, its services beside the
/// server, and (unless told otherwise) the real Stripe simulator mounted at `/sim/stripe` on the same loopback
/// server — on a fresh database.
struct ShopHarness: Sendable {
    let baseURL: String
    let shop: ShopComponent
    let simulator: StripeSimulator?

    /// Where the server listens, known once it is bound.
    final class Address: Sendable {
        private let value = Mutex("http://127.0.0.1:0")
        func set(_ url: String) { value.withLock { $0 = url } }
        var url: String { value.withLock { $0 } }
    }

    /// - Parameter now: the wall clock of the shop and the simulator (a `ManualClock`'s `dateProvider` in tests that
    ///   move time).
    static func run<T: Sendable>(
        _ kind: TestDatabase.Kind = .sqlite,
        configuration: ShopConfiguration = ShopConfiguration(),
        simulator withSimulator: Bool = true,
        now: @escaping @Sendable () -> Date = { Date() },
        extraRoutes: @Sendable (Router<BasicRequestContext>, ShopComponent) throws -> Void = { _, _ in },
        _ body: @Sendable (ShopHarness) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(kind) { database in
            try await run(database: database, configuration: configuration, simulator: withSimulator, now: now, extraRoutes: extraRoutes, body)
        }
    }

    /// The shop on `database`, which the caller owns.
    ///
    /// - Parameter beforeServing: runs once the shop is built (migrated, seeded) and before its server and services
    ///   start, when no query is in flight: where a test may take the database away.
    static func run<T: Sendable>(
        database: Database,
        configuration: ShopConfiguration = ShopConfiguration(),
        simulator withSimulator: Bool = true,
        now: @escaping @Sendable () -> Date = { Date() },
        extraRoutes: @Sendable (Router<BasicRequestContext>, ShopComponent) throws -> Void = { _, _ in },
        beforeServing: @Sendable (ShopComponent) async throws -> Void = { _ in },
        _ body: @Sendable (ShopHarness) async throws -> T
    ) async throws -> T {
        do {
            let address = Address()
            let logger = LoopbackServer.quietLogger
            let shop = try await ShopComponent.make(
                configuration: configuration,
                database: database,
                selfBaseURL: { address.url },
                logger: logger,
                closesDatabase: false,
                now: now
            )
            let router = Router(context: BasicRequestContext.self)
            router.add(middleware: ProblemMiddleware())
            try extraRoutes(router, shop)
            try shop.addRoutes(to: router)
            var services = shop.services
            var simulator: StripeSimulator?
            if withSimulator {
                let engine = try await StripeSimulator.makeDeliveryEngine(databasePath: nil, logger: logger)
                let sim = StripeSimulator(
                    configuration: .init(basePath: StripeSimulator.embeddedBasePath, publicBaseURL: { address.url }),
                    engine: engine,
                    now: now,
                    logger: logger
                )
                try await sim.prepare()
                try sim.addRoutes(to: router)
                services += sim.services
                simulator = sim
            }
            router.addMethodNotAllowedResponses()
            try await beforeServing(shop)
            return try await LoopbackServer.run(router, services: services) { server in
                address.set(server.baseURL)
                return try await body(ShopHarness(baseURL: server.baseURL, shop: shop, simulator: simulator))
            }
        }
    }

    // MARK: HTTP

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPFields
        var body: Data

        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw HarnessError("not a JSON object: \(String(decoding: body, as: UTF8.self))")
            }
            return object
        }

        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
    }

    func request(
        _ method: HTTPRequest.Method,
        _ path: String,
        body: String? = nil,
        headers: [(String, String)] = [],
        contentType: String? = "application/json"
    ) async throws -> Answer {
        try await Self.request(method, baseURL + path, body: body, headers: headers, contentType: contentType)
    }

    /// Follows no redirects, so tests see them; never shut down (it lives as long as the test process).
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    static func request(
        _ method: HTTPRequest.Method,
        _ url: String,
        body: String? = nil,
        headers: [(String, String)] = [],
        contentType: String? = "application/json"
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method.rawValue)
        if let body {
            request.body = .bytes(ByteBuffer(string: body))
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 4 << 20)
        var fields = HTTPFields()
        for header in response.headers { fields.append(HTTPField(name: HTTPField.Name(header.name)!, value: header.value)) }
        return Answer(status: Int(response.status.code), headers: fields, body: Data(buffer: collected))
    }

    /// `POST /shop/api/orders`; the order's JSON.
    func createOrder(_ lines: [(String, Int)] = [("prod_tshirt", 2)], key: String? = nil) async throws -> [String: Any] {
        let body = "{\"lines\":[" + lines.map { "{\"productId\":\"\($0.0)\",\"quantity\":\($0.1)}" }.joined(separator: ",") + "]}"
        let answer = try await request(.post, "/shop/api/orders", body: body, headers: key.map { [("Idempotency-Key", $0)] } ?? [])
        guard answer.status == 201 else { throw HarnessError("creating an order answered \(answer.status): \(answer.text)") }
        return try answer.json()
    }

    /// A product id from the catalogue the store seeded.
    func productID(_ index: Int = 0) async throws -> String {
        try await shop.store.products()[index].id
    }

    /// `GET /shop/api/orders/<id>`; the order's JSON.
    func order(_ id: String) async throws -> [String: Any] {
        let answer = try await request(.get, "/shop/api/orders/\(id)")
        guard answer.status == 200 else { throw HarnessError("reading order \(id) answered \(answer.status): \(answer.text)") }
        return try answer.json()
    }

    /// How many rows `table` holds.
    func count(_ table: String) async throws -> Int {
        try await shop.store.database.withConnection { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite(.timeLimit(.minutes(1)))
struct APIHarnessTests {
    @Test func theServedDocumentIsTheFileTheAPIIsGeneratedFrom() async throws {
        try await ShopHarness.run(simulator: false) { shop in
            let answer = try await shop.request(.get, "/shop/api/openapi.yaml")
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type") == "application/yaml")
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/Shop/openapi.yaml")
            #expect(answer.body == (try Data(contentsOf: source)))
        }
    }

    @Test func theOrderStatusesOfTheDocumentAreTheDomainsStatuses() {
        #expect(Set(Components.Schemas.OrderStatus.allCases.map(\.rawValue)) == Set(OrderStatus.allCases.map(\.rawValue)))
        #expect(Set(Components.Schemas.PaymentStatus.allCases.map(\.rawValue)) == Set(PaymentStatus.allCases.map(\.rawValue)))
    }

    @Test func thePagesAreServedUnderShop() async throws {
        try await ShopHarness.run(simulator: false) { shop in
            let redirect = try await shop.request(.get, "/shop")
            #expect(redirect.status == 308)
            #expect(redirect.header("Location") == "/shop/")
            let index = try await shop.request(.get, "/shop/")
            #expect(index.status == 200)
            #expect(index.header("Content-Type") == "text/html; charset=utf-8")
            #expect(try await shop.request(.get, "/shop/api.js").status == 200)
            #expect(try await shop.request(.get, "/shop/package.json").status == 404)
        }
    }
}
