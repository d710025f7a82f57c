import Foundation
import InterchangeCore
import Persistence
import SQLKit

extension ShopStore {
    /// Places an order for `lines`, copying names and prices from the catalog (never from the caller).
    ///
    /// - Throws: ``ShopStoreError/emptyOrder``, ``ShopStoreError/invalidQuantity(lineIndex:quantity:)``,
    ///   ``ShopStoreError/unknownProduct(lineIndex:productID:)`` naming the first bad line (0-based).
    public func createOrder(lines: [(productID: String, quantity: Int)]) async throws -> Order {
        guard !lines.isEmpty else { throw ShopStoreError.emptyOrder }
        if let bad = lines.indices.first(where: { !OrderLine.quantityRange.contains(lines[$0].quantity) }) {
            throw ShopStoreError.invalidQuantity(lineIndex: bad, quantity: lines[bad].quantity)
        }
        let catalog = Dictionary(try await products().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var orderLines: [OrderLine] = []
        var currency: String?
        for (index, line) in lines.enumerated() {
            guard let product = catalog[line.productID] else {
                throw ShopStoreError.unknownProduct(lineIndex: index, productID: line.productID)
            }
            // The catalog has one currency (ShopCatalog); the order's is its first product's.
            currency = currency ?? product.currency
            orderLines.append(
                OrderLine(
                    productID: product.id,
                    name: product.name,
                    unitAmount: product.unitAmount,
                    quantity: line.quantity,
                    amount: product.unitAmount * line.quantity
                )
            )
        }
        guard let currency else { throw ShopStoreError.emptyOrder }
        let id = RandomIdentifier.make(prefix: "ord", length: 24)
        let amountTotal = orderLines.reduce(0) { $0 + $1.amount }
        let lifecycle = OrderLifecycle(amountTotal: amountTotal, currency: currency)
        let date = now()
        let created = TimelineEntry(at: date, kind: "order.created", message: "order placed: \(amountTotal) \(currency)", to: .pending)
        let finalLines = orderLines
        return try await database.transaction { sql in
            try await sql.insert(into: "shop_orders")
                .columns("id", "status", "payment_status", "currency", "amount_total", "flags", "lifecycle", "created_at", "updated_at")
                .values(
                    SQLBind(id),
                    SQLBind(lifecycle.status.rawValue),
                    SQLBind(lifecycle.paymentStatus.rawValue),
                    SQLBind(currency),
                    SQLBind(amountTotal),
                    SQLBind(try Self.json(lifecycle.flags)),
                    SQLBind(try Self.json(lifecycle)),
                    SQLBind(date.millisecondsSince1970),
                    SQLBind(date.millisecondsSince1970)
                )
                .run()
            for (index, line) in finalLines.enumerated() {
                try await sql.insert(into: "shop_order_lines")
                    .columns("order_id", "line_index", "product_id", "name", "unit_amount", "quantity", "amount")
                    .values(
                        SQLBind(id),
                        SQLBind(index),
                        SQLBind(line.productID),
                        SQLBind(line.name),
                        SQLBind(line.unitAmount),
                        SQLBind(line.quantity),
                        SQLBind(line.amount)
                    )
                    .run()
            }
            try await Self.appendTimeline(sql, orderID: id, entries: [created], eventID: nil)
            return try await Self.requireOrder(sql, id: id)
        }
    }

    /// The order with its lines and timeline; nil when there is none.
    ///
    /// - Throws: ``UnreadableRowError`` when a stored row cannot be read.
    public func order(id: String) async throws -> Order? {
        try await database.withConnection { sql in try await Self.loadOrder(sql, id: id) }
    }

    /// What a checkout call should do: reuse the open session (valid for at least another minute), or open the
    /// planned attempt's session.
    ///
    /// A new attempt (1 for the first; +1 after a session expired or ran out of time) is planned with
    /// `expiresAt = now + sessionLifetime` and stored with the order in this call's transaction; until its session is
    /// recorded, every call plans that same attempt with that same expiry — in a later hour, from another process,
    /// after a crash — so Stripe answers the attempt's `Idempotency-Key` with the session it opened first. A plan
    /// whose expiry is less than Stripe's 30 minutes (and a minute of slack) away gives way to the next attempt.
    ///
    /// - Throws: ``ShopStoreError/orderNotFound(_:)``; ``ShopStoreError/notPayable(orderID:status:)`` when the order is
    ///   paid, fulfilled, refunded, cancelled, flagged, or a payment is processing.
    public func checkoutAttempt(orderID: String, sessionLifetime: Duration = .seconds(24 * 3600)) async throws -> CheckoutPlan {
        let date = now()
        let lifetime = TimeInterval(sessionLifetime.components.seconds)
        return try await database.transaction { sql in
            guard var locked = try await Self.lockOrder(sql, id: orderID) else { throw ShopStoreError.orderNotFound(orderID) }
            let before = locked.lifecycle
            switch locked.lifecycle.planCheckout(now: date, sessionLifetime: lifetime) {
            case .notPayable(let status):
                throw ShopStoreError.notPayable(orderID: orderID, status: status)
            case .reuse(let session):
                return .reuse(session)
            case .create(let planned):
                if locked.lifecycle != before { try await Self.save(sql, locked, entries: [], eventID: nil, at: date) }
                return .create(attempt: planned.attempt, expiresAt: planned.expiresAt, order: try await Self.requireOrder(sql, id: orderID))
            }
        }
    }

    /// Records the session opened for `session.attempt`; a pending or expired order moves to `awaiting_payment`.
    ///
    /// - Throws: ``ShopStoreError/orderNotFound(_:)``.
    public func recordCheckoutSession(orderID: String, session: CheckoutSessionRef) async throws -> Order {
        try await change(orderID: orderID) { lifecycle, date in lifecycle.recordSession(session, at: date) }
    }

    /// Adds a `checkout.failed` timeline entry (Stripe unreachable, …); the order stays payable.
    ///
    /// - Throws: ``ShopStoreError/orderNotFound(_:)``.
    public func recordCheckoutFailure(orderID: String, reason: String) async throws {
        _ = try await change(orderID: orderID) { _, date in
            [TimelineEntry(at: date, kind: "checkout.failed", message: "checkout session not created: \(reason)")]
        }
    }

    /// Marks a paid order fulfilled; for an order in another status the step is recorded as `transition.rejected`.
    ///
    /// - Throws: ``ShopStoreError/orderNotFound(_:)``.
    @discardableResult
    public func fulfill(orderID: String) async throws -> Order {
        try await change(orderID: orderID) { lifecycle, date in lifecycle.recordFulfillment(at: date) }
    }

    /// Runs `body` on the order's lifecycle under its row lock and saves the result with the entries it returns.
    private func change(
        orderID: String,
        _ body: @escaping @Sendable (inout OrderLifecycle, Date) -> [TimelineEntry]
    ) async throws -> Order {
        let date = now()
        return try await database.transaction { sql in
            guard var locked = try await Self.lockOrder(sql, id: orderID) else { throw ShopStoreError.orderNotFound(orderID) }
            let entries = body(&locked.lifecycle, date)
            try await Self.save(sql, locked, entries: entries, eventID: nil, at: date)
            return try await Self.requireOrder(sql, id: orderID)
        }
    }

    static func requireOrder(_ sql: any SQLDatabase, id: String) async throws -> Order {
        guard let order = try await loadOrder(sql, id: id) else { throw ShopStoreError.orderNotFound(id) }
        return order
    }
}
