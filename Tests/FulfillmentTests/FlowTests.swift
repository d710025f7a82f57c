import AsyncHTTPClient
import Foundation
import FulfillmentEvents
import FulfillmentInventory
import FulfillmentPayments
import FulfillmentUsers
import Hummingbird
import InterchangeTesting
import Messaging
import Persistence
import ServiceRuntime
import Synchronization
import Testing

@testable import FulfillmentOrders

/// The four services as `interchange up` runs them — one server, each service on its own database, one shared
/// embedded transport — and the saga end to end through the real participants, in both styles.
struct FulfillmentSystem: Sendable {
    let baseURL: String
    let orders: OrdersComponent
    let inventory: InventoryComponent
    let payments: PaymentsComponent
    let provider: SimulatedPaymentProvider
    let ordersClock: ManualClock

    final class Address: Sendable {
        private let value = Mutex("http://127.0.0.1:0")
        func set(_ url: String) { value.withLock { $0 = url } }
        var url: String { value.withLock { $0 } }
    }

    /// SKUs whose price makes the simulated provider decline (ends in 01) or time out (ends in 08).
    static let seed =
        StockItem.demo + [
            StockItem(sku: "SKU-DECLINE", name: "Declined", priceCents: 1201, currency: "usd", available: 5),
            StockItem(sku: "SKU-SLOW", name: "Slow", priceCents: 1208, currency: "usd", available: 5),
        ]

    static func run<T: Sendable>(
        style: FulfillmentSagaStyle,
        kind: TestDatabase.Kind = .sqlite,
        _ body: @Sendable (FulfillmentSystem) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(kind) { usersDB in
            try await TestDatabase.with(kind) { inventoryDB in
                try await TestDatabase.with(kind) { paymentsDB in
                    try await TestDatabase.with(kind) { ordersDB in
                        try await TestDatabase.with(kind) { eventsDB in
                            try await run(style: style, databases: (usersDB, inventoryDB, paymentsDB, ordersDB, eventsDB), body)
                        }
                    }
                }
            }
        }
    }

    private static func run<T: Sendable>(
        style: FulfillmentSagaStyle,
        databases: (Database, Database, Database, Database, Database),
        _ body: @Sendable (FulfillmentSystem) async throws -> T
    ) async throws -> T {
        let logger = LoopbackServer.quietLogger
        let address = Address()
        try await databases.4.migrate(EmbeddedTransport.migrations)
        let transport = EmbeddedTransport(database: databases.4, configuration: .init(pollInterval: .milliseconds(5)), logger: logger)
        let users = try await UsersComponent.make(database: databases.0, logger: logger, closesDatabase: false)
        let inventory = try await InventoryComponent.make(
            database: databases.1,
            transport: transport,
            configuration: .init(seed: seed),
            logger: logger,
            closesDatabase: false
        )
        // Provider timeouts fail at once (the clock advances on sleep); the money is taken all the same.
        let provider = SimulatedPaymentProvider(timeout: .seconds(5), clock: ManualClock(advancesOnSleep: true))
        let payments = try await PaymentsComponent.make(
            database: databases.2,
            transport: transport,
            configuration: .init(retryDelay: try .constant(.milliseconds(10))),
            logger: logger,
            provider: provider,
            closesDatabase: false
        )
        let ordersClock = ManualClock()
        let orders = try await OrdersComponent.make(
            database: databases.3,
            transport: transport,
            configuration: OrdersConfiguration(sagaStyle: style, reserveTimeout: .seconds(10), chargeTimeout: .seconds(20), stepMaxAttempts: 3),
            logger: logger,
            now: { ordersClock.date },
            clock: ordersClock,
            selfBaseURL: { address.url },
            closesDatabase: false
        )
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        try users.addRoutes(to: router)
        try inventory.addRoutes(to: router)
        try payments.addRoutes(to: router)
        try orders.addRoutes(to: router)
        return try await LoopbackServer.run(router, services: users.services + inventory.services + payments.services + orders.services) { server in
            address.set(server.baseURL)
            return try await body(
                FulfillmentSystem(
                    baseURL: server.baseURL,
                    orders: orders,
                    inventory: inventory,
                    payments: payments,
                    provider: provider,
                    ordersClock: ordersClock
                )
            )
        }
    }

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
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// Registers a user through the users API; its id.
    func registerUser() async throws -> String {
        let response = try await request(
            .POST,
            "/users/api/users",
            json: #"{"name":"Ada","email":"ada-\#(UUID().uuidString.prefix(8))@example.com"}"#
        )
        guard response.status == 201, let id = response.body?["id"] as? String else { throw FlowFailure("user not created: \(response.text)") }
        return id
    }

    /// Places an order through the orders API; its id.
    func place(user: String, _ lines: [(String, Int)]) async throws -> String {
        let body = lines.map { #"{"sku":"\#($0.0)","quantity":\#($0.1)}"# }.joined(separator: ",")
        let response = try await request(.POST, "/orders/api/orders", json: #"{"userId":"\#(user)","lines":[\#(body)]}"#)
        guard response.status == 202, let id = response.body?["id"] as? String else { throw FlowFailure("order not accepted: \(response.text)") }
        return id
    }

    /// The order as the API shows it.
    func order(_ id: String) async throws -> [String: Any] {
        let response = try await request(.GET, "/orders/api/orders/\(id)")
        guard response.status == 200, let body = response.body else { throw FlowFailure("no order \(id): \(response.text)") }
        return body
    }

    /// Polls the order (bounded, real time) until its status is one of `statuses`; the order then.
    @discardableResult
    func waitForStatus(_ id: String, in statuses: Set<String>, timeout: Duration = .seconds(20)) async throws -> [String: Any] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let order = try await order(id)
            if let status = order["status"] as? String, statuses.contains(status) { return order }
            guard clock.now < deadline else { throw FlowFailure("order \(id) still \(order["status"] ?? "?") after \(timeout), not \(statuses)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The timeline's kinds, `step:kind`.
    static func timeline(_ order: [String: Any]) -> [String] {
        ((order["saga"] as? [String: Any])?["timeline"] as? [[String: Any]] ?? []).map {
            "\($0["step"] as? String ?? ""):\($0["kind"] as? String ?? "")"
        }
    }

    func stock(_ sku: String) async throws -> (available: Int, reserved: Int) {
        let item = try #require(try await inventory.store.stock(sku: sku))
        return (item.available, item.reserved)
    }
}

struct FlowFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// Serialized: a PostgreSQL case holds five databases (about 20 connections); in parallel they exhaust the server.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct FlowTests {
    static let stylesAndDatabases: [(FulfillmentSagaStyle, TestDatabase.Kind)] = FulfillmentSagaStyle.allCases.flatMap { style in
        TestDatabase.kinds.map { (style, $0) }
    }

    @Test(arguments: FlowTests.stylesAndDatabases)
    func theHappyPathConfirmsAndSellsTheStock(style: FulfillmentSagaStyle, kind: TestDatabase.Kind) async throws {
        try await FulfillmentSystem.run(style: style, kind: kind) { system in
            let user = try await system.registerUser()
            let id = try await system.place(user: user, [("SKU-APPLE", 3), ("SKU-PEAR", 1)])
            let order = try await system.waitForStatus(id, in: ["CONFIRMED", "CANCELLED"])
            #expect(order["status"] as? String == "CONFIRMED", "\(FulfillmentSystem.timeline(order))")
            #expect(order["totalCents"] as? Int == 3 * 120 + 90)
            let timeline = FulfillmentSystem.timeline(order)
            #expect(timeline.contains("reserve-inventory:succeeded") && timeline.contains("charge-payment:succeeded"), "\(timeline)")
            #expect((order["saga"] as? [String: Any])?["style"] as? String == style.rawValue)
            try await waitUntilAsync("the reservation became a sale") { try await system.stock("SKU-APPLE") == (97, 0) }
            #expect(system.provider.heldCents == 3 * 120 + 90)
            try await InvariantChecks.expectAllHold(system)
        }
    }

    @Test(arguments: FlowTests.stylesAndDatabases)
    func aDeclinedPaymentReleasesTheStockAndCancels(style: FulfillmentSagaStyle, kind: TestDatabase.Kind) async throws {
        try await FulfillmentSystem.run(style: style, kind: kind) { system in
            let user = try await system.registerUser()
            let id = try await system.place(user: user, [("SKU-DECLINE", 1)])
            let order = try await system.waitForStatus(id, in: ["CONFIRMED", "CANCELLED"])
            #expect(order["status"] as? String == "CANCELLED")
            #expect((order["reason"] as? String)?.contains("declined") == true, "\(order["reason"] ?? "nil")")
            try await waitUntilAsync("the stock is back") { try await system.stock("SKU-DECLINE") == (5, 0) }
            #expect(system.provider.heldCents == 0)
            try await InvariantChecks.expectAllHold(system)
        }
    }

    @Test(arguments: FulfillmentSagaStyle.allCases)
    func shortStockCancelsAndNobodyIsCharged(style: FulfillmentSagaStyle) async throws {
        try await FulfillmentSystem.run(style: style) { system in
            let user = try await system.registerUser()
            let id = try await system.place(user: user, [("SKU-RARE", 2)])
            let order = try await system.waitForStatus(id, in: ["CONFIRMED", "CANCELLED"])
            #expect(order["status"] as? String == "CANCELLED")
            #expect((order["reason"] as? String)?.contains("insufficient") == true, "\(order["reason"] ?? "nil")")
            #expect(system.provider.chargeCount == 0)
            #expect(try await system.payments.store.payments(orderID: id).isEmpty)
            #expect(try await system.stock("SKU-RARE") == (1, 0))
            try await InvariantChecks.expectAllHold(system)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aPaymentTimeoutIsRetriedThenRefundedAndReleased(kind: TestDatabase.Kind) async throws {
        try await FulfillmentSystem.run(style: .orchestration, kind: kind) { system in
            let user = try await system.registerUser()
            let id = try await system.place(user: user, [("SKU-SLOW", 1)])
            try await system.waitForStatus(id, in: ["CHARGING"])
            try await waitUntilAsync("the provider took the money and lost the answer") { system.provider.chargeCount == 1 }
            // Each advance fires the charge's deadline exactly once — here, or by the orders service's own scanner,
            // which sleeps on the same clock and may get there first (the engine counts only what it moved).
            for attempt in 2...3 {
                system.ordersClock.advance(by: .seconds(21))
                #expect(try await system.orders.fireDueDeadlines() <= 1)
                try await waitUntilAsync("charge attempt \(attempt) reached payments") {
                    FulfillmentSystem.timeline(try await system.order(id)).filter { $0 == "charge-payment:executing" }.count == attempt
                }
                let timedOut = FulfillmentSystem.timeline(try await system.order(id)).filter { $0 == "charge-payment:timed_out" }
                #expect(timedOut.count == attempt - 1, "one firing per deadline")
            }
            system.ordersClock.advance(by: .seconds(21))
            #expect(try await system.orders.fireDueDeadlines() <= 1)
            let order = try await system.waitForStatus(id, in: ["CONFIRMED", "CANCELLED"])
            #expect(order["status"] as? String == "CANCELLED")
            #expect(system.provider.chargeCount == 1, "the retries reused the charge's idempotency key")
            try await waitUntilAsync("the late charge was refunded") { system.provider.heldCents == 0 }
            try await waitUntilAsync("the stock is back") { try await system.stock("SKU-SLOW") == (5, 0) }
            let timeline = FulfillmentSystem.timeline(order)
            #expect(timeline.filter { $0 == "charge-payment:timed_out" }.count == 3, "\(timeline)")
            #expect(timeline.firstIndex(of: "charge-payment:compensated")! < timeline.firstIndex(of: "reserve-inventory:compensated")!)
            try await InvariantChecks.expectAllHold(system)
        }
    }

    @Test(arguments: FulfillmentSagaStyle.allCases)
    func cancellingMidSagaUndoesWhatWasDone(style: FulfillmentSagaStyle) async throws {
        try await FulfillmentSystem.run(style: style) { system in
            let user = try await system.registerUser()
            // The provider times out, so the saga stays in CHARGING (with the money taken) until it is cancelled.
            let id = try await system.place(user: user, [("SKU-SLOW", 1)])  // 1208¢: the provider times out
            try await system.waitForStatus(id, in: ["CHARGING"])
            try await waitUntilAsync("the provider took the money") { system.provider.chargeCount == 1 }
            // Mid-saga the invariant check must see the open order and the held stock (it can fail).
            let midway = try await InvariantChecks.violations(system, initial: FulfillmentSystem.seed)
            #expect(midway.contains { $0.contains("is CHARGING") } && midway.contains { $0.hasPrefix("SKU SKU-SLOW") }, "\(midway)")
            let cancel = try await system.request(.POST, "/orders/api/orders/\(id)/cancel")
            #expect(cancel.status == 202, "\(cancel.text)")
            let order = try await system.waitForStatus(id, in: ["CONFIRMED", "CANCELLED"])
            #expect(order["status"] as? String == "CANCELLED")
            #expect(order["reason"] as? String == "cancelled by request")
            try await waitUntilAsync("the charge was refunded") { system.provider.heldCents == 0 }
            try await waitUntilAsync("the stock is back") { try await system.stock("SKU-SLOW") == (5, 0) }
            let again = try await system.request(.POST, "/orders/api/orders/\(id)/cancel")
            #expect(again.status == 409, "\(again.text)")
            try await InvariantChecks.expectAllHold(system)
        }
    }
}

extension FlowTests {
    @Test(arguments: TestDatabase.kinds)
    func theRealUsersAndInventoryServicesRefuseUnknownUsersAndSKUsBeforeAnySaga(kind: TestDatabase.Kind) async throws {
        try await FulfillmentSystem.run(style: .orchestration, kind: kind) { system in
            let user = try await system.registerUser()
            let unknownUser = try await system.request(
                .POST,
                "/orders/api/orders",
                json: #"{"userId":"usr_nobody","lines":[{"sku":"SKU-APPLE","quantity":1}]}"#
            )
            #expect(unknownUser.status == 404, "\(unknownUser.text)")
            #expect(unknownUser.body?["field"] as? String == "userId")
            let unknownSKU = try await system.request(
                .POST,
                "/orders/api/orders",
                json: #"{"userId":"\#(user)","lines":[{"sku":"SKU-APPLE","quantity":1},{"sku":"SKU-NOPE","quantity":1}]}"#
            )
            #expect(unknownSKU.status == 404, "\(unknownSKU.text)")
            #expect(unknownSKU.body?["field"] as? String == "lines[1].sku")
            #expect(try await system.orders.store.orders().isEmpty)
            let priced = try await system.order(try await system.place(user: user, [("SKU-PLUM", 2)]))
            #expect(priced["totalCents"] as? Int == 500, "the price comes from inventory")
        }
    }
}

/// Polls an async condition every few milliseconds for at most `timeout` (real time).
func waitUntilAsync(_ description: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while !(try await condition()) {
        guard clock.now < deadline else { throw FlowFailure("timed out after \(timeout) waiting until \(description)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}
