import AsyncHTTPClient
import Foundation
import FulfillmentEvents
import Hummingbird
import InterchangeTesting
import Messaging
import NIOCore
import Persistence
import SQLKit
import ServiceRuntime

@testable import FulfillmentOrders

/// The orders service as `interchange serve orders` runs it — its routes behind `ProblemMiddleware`, its services
/// (relay, replies' consumer, deadline scanner) beside the server — on a fresh database, with an embedded transport
/// in that same database, and users/inventory at `upstreamBaseURL`.
struct OrdersHarness: Sendable {
    let baseURL: String
    let orders: OrdersComponent
    let transport: EmbeddedTransport
    var database: Database { orders.store.database }

    static func run<T: Sendable>(
        _ kind: TestDatabase.Kind = .sqlite,
        upstreamBaseURL: String,
        configuration: OrdersConfiguration = OrdersConfiguration(),
        now: @escaping @Sendable () -> Date = { Date() },
        clock: any Clock<Duration> = ContinuousClock(),
        _ body: @Sendable (OrdersHarness) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(EmbeddedTransport.migrations)
            let transport = EmbeddedTransport(database: database, now: now, logger: LoopbackServer.quietLogger)
            var configuration = configuration
            configuration.usersBaseURL = upstreamBaseURL
            configuration.inventoryBaseURL = upstreamBaseURL
            let orders = try await OrdersComponent.make(
                database: database,
                transport: transport,
                configuration: configuration,
                logger: LoopbackServer.quietLogger,
                now: now,
                clock: clock,
                closesDatabase: false
            )
            let router = Router(context: BasicRequestContext.self)
            router.add(middleware: ProblemMiddleware())
            try orders.addRoutes(to: router)
            return try await LoopbackServer.run(router, services: orders.services) { server in
                try await body(OrdersHarness(baseURL: server.baseURL, orders: orders, transport: transport))
            }
        }
    }

    /// `method path` with a JSON body; the status and the body parsed as a JSON object (nil when it is not one).
    enum Method { case GET, POST }

    func request(_ method: Method, _ path: String, json: String? = nil) async throws -> (status: Int, body: [String: Any]?, text: String) {
        var request = HTTPClientRequest(url: baseURL + path)
        switch method {
        case .GET: request.method = .GET
        case .POST: request.method = .POST
        }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let text = String(buffer: bytes)
        let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return (Int(response.status.code), object, text)
    }

    /// Rows in a table of the orders database.
    func count(_ table: String) async throws -> Int {
        try await database.withConnection { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    /// The types of the events in the outbox, in append order.
    func outboxTypes() async throws -> [String] {
        try await database.withConnection { sql in
            try await sql.raw("SELECT type FROM messaging_outbox ORDER BY seq").all().map { try $0.decode(column: "type", as: String.self) }
        }
    }
}

/// A users + inventory stand-in on a scripted loopback server: the users and SKUs it knows, answered in the real
/// services' wire shapes (`GET /users/api/users/{id}`, `GET /inventory/api/stock/{sku}`), 404 problem for others.
enum UpstreamStandIn {
    static func script(_ server: ScriptedHTTPServer, users: [String], stock: [(sku: String, priceCents: Int, currency: String)]) {
        for user in users {
            server.enqueue(
                "/users/api/users/\(user)",
                .json(#"{"id":"\#(user)","name":"Ada","email":"ada@example.com","createdAt":"2026-01-01T00:00:00Z"}"#)
            )
        }
        for item in stock {
            server.enqueue(
                "/inventory/api/stock/\(item.sku)",
                .json(
                    #"{"sku":"\#(item.sku)","name":"\#(item.sku)","priceCents":\#(item.priceCents),"currency":"\#(item.currency)","available":10,"reserved":0}"#
                )
            )
        }
    }
}
