import Foundation
import FulfillmentEvents
import InterchangeCore
import OpenAPIRuntime
import Persistence
import Sagas
import ServiceRuntime

/// The orders API (openapi.yaml): validates what the document cannot state for the generated decoder, asks the
/// placement, the store and the saga, and answers in the document's shapes. Every refusal is a thrown
/// ``ProblemError`` naming the field (`lines[2].quantity`) or parameter (`orderId`).
struct OrdersAPI: APIProtocol {
    let placement: OrderPlacement
    let saga: OrderSaga
    let style: FulfillmentSagaStyle
    let wake: @Sendable () -> Void

    var store: OrdersStore { saga.store }

    func placeOrder(_ input: Operations.PlaceOrder.Input) async throws -> Operations.PlaceOrder.Output {
        guard case .json(let body) = input.body else { throw ProblemError.invalidBody("must be application/json") }
        let validated: OrderPlacement.Validated
        do {
            validated = try await placement.validate(.init(userId: body.userId, lines: body.lines.map { ($0.sku, $0.quantity) }))
        } catch let refusal as OrderPlacement.Refusal {
            throw Self.problem(refusal)
        } catch let error as UpstreamError {
            throw Self.problem(error)
        }
        let date = saga.now()
        let order = Order(
            id: RandomIdentifier.make(prefix: "ord", length: 24),
            userId: validated.userId,
            lines: validated.lines,
            totalCents: validated.totalCents,
            currency: validated.currency,
            status: .pending,
            sagaStyle: style,
            createdAt: date,
            updatedAt: date
        )
        let saga = self.saga
        let placed = try await store.database.transaction { sql in try await saga.start(order, in: sql) }
        wake()
        return .accepted(
            .init(headers: .init(location: "/orders/api/orders/\(placed.id)"), body: .json(.init(id: placed.id, status: Self.status(placed.status))))
        )
    }

    func listOrders(_ input: Operations.ListOrders.Input) async throws -> Operations.ListOrders.Output {
        let limit = input.query.limit ?? 100
        guard (1...500).contains(limit) else { throw ProblemError.invalidParameter("limit", "must be 1 to 500 (got \(limit))") }
        let orders = try await store.orders(userId: input.query.userId, limit: limit)
        return .ok(.init(body: .json(.init(data: orders.map(Self.summary)))))
    }

    func getOrder(_ input: Operations.GetOrder.Input) async throws -> Operations.GetOrder.Output {
        let id = try Self.orderID(input.path.orderId)
        guard let (order, instance) = try await store.orderWithSaga(id: id) else { throw Self.orderNotFound(id) }
        return .ok(.init(body: .json(Self.order(order, saga: instance))))
    }

    func cancelOrder(_ input: Operations.CancelOrder.Input) async throws -> Operations.CancelOrder.Output {
        let id = try Self.orderID(input.path.orderId)
        let saga = self.saga
        let outcome: CancelOutcome = try await store.database.transaction { sql in
            // The saga's row lock first (as every saga input takes it), then the order as the saga left it.
            guard let instance = try await saga.lockedSaga(id, in: sql), let order = try await saga.store.order(id: id, in: sql) else {
                return .notFound
            }
            if order.status.isFinal || instance.status.isTerminal { return .final(order.status) }
            if instance.status == .compensating { return .cancelling(order) }
            guard let after = try await saga.apply(.cancel(reason: OrderSaga.cancelledByRequest), toOrder: id, in: sql) else { return .notFound }
            return .cancelling(after)
        }
        switch outcome {
        case .notFound:
            throw Self.orderNotFound(id)
        case .final(let status):
            throw ProblemError(
                ProblemDetails(
                    status: 409,
                    title: "Order cannot be cancelled",
                    detail: "order \(id) is already \(status.rawValue)",
                    type: ProblemError.typeBase + "order-final",
                    extensions: ["parameter": .string("orderId"), "status": .string(status.rawValue)]
                )
            )
        case .cancelling(let order):
            wake()
            return .accepted(.init(body: .json(.init(id: order.id, status: Self.status(order.status)))))
        }
    }

    private enum CancelOutcome: Sendable {
        case notFound
        case final(OrderStatus)
        case cancelling(Order)
    }

    // MARK: Validation and problems

    /// `ord_` and 1-64 ASCII letters or digits, or a 400 naming `orderId`.
    static func orderID(_ id: String) throws -> String {
        let rest = id.dropFirst(4)
        guard id.hasPrefix("ord_"), (1...64).contains(rest.utf8.count), OrderPlacement.isIdentifier(String(rest), extra: "") else {
            throw ProblemError.invalidParameter("orderId", "must be ord_ followed by 1 to 64 letters or digits")
        }
        return id
    }

    static func orderNotFound(_ id: String) -> ProblemError {
        ProblemError(
            ProblemDetails(
                status: 404,
                title: "Not Found",
                detail: "no order \(id)",
                type: ProblemError.typeBase + "not-found",
                extensions: ["parameter": .string("orderId")]
            )
        )
    }

    static func problem(_ refusal: OrderPlacement.Refusal) -> ProblemError {
        switch refusal {
        case .invalid(let field, let detail):
            return .invalidBody(detail, field: field)
        case .unknown(let field, let detail):
            return ProblemError(
                ProblemDetails(
                    status: 404,
                    title: field == "userId" ? "Unknown user" : "Unknown SKU",
                    detail: "\(field): \(detail)",
                    type: ProblemError.typeBase + "not-found",
                    extensions: ["field": .string(field)]
                )
            )
        }
    }

    /// 503 when users or inventory could not be reached (nothing was stored: place the order again), 502 when it
    /// answered something unusable.
    static func problem(_ error: UpstreamError) -> ProblemError {
        error.unavailable
            ? .upstream(
                status: 503,
                title: "\(error.upstream) unavailable",
                detail: "the \(error.upstream) service could not be asked; no order was placed",
                upstream: error.upstream,
                retryAfter: .seconds(1)
            )
            : .upstream(
                status: 502,
                title: "\(error.upstream) answered unusably",
                detail: "\(error); no order was placed",
                upstream: error.upstream
            )
    }

    // MARK: Shapes

    static func status(_ status: OrderStatus) -> Components.Schemas.OrderStatus {
        // The two enums are written to one list (the document's); a test holds them equal.
        Components.Schemas.OrderStatus(rawValue: status.rawValue)!
    }

    static func lines(_ lines: [OrderLine]) -> [Components.Schemas.OrderLine] {
        lines.map { .init(sku: $0.sku, quantity: $0.quantity, unitPriceCents: $0.unitPriceCents) }
    }

    static func summary(_ order: Order) -> Components.Schemas.OrderSummary {
        .init(
            id: order.id,
            userId: order.userId,
            lines: lines(order.lines),
            totalCents: order.totalCents,
            currency: order.currency,
            status: status(order.status),
            reason: order.reason,
            createdAt: order.createdAt,
            updatedAt: order.updatedAt
        )
    }

    static func order(_ order: Order, saga: SagaInstance) -> Components.Schemas.Order {
        .init(
            id: order.id,
            userId: order.userId,
            lines: lines(order.lines),
            totalCents: order.totalCents,
            currency: order.currency,
            status: status(order.status),
            reason: order.reason,
            createdAt: order.createdAt,
            updatedAt: order.updatedAt,
            saga: .init(
                style: Components.Schemas.SagaStyle(rawValue: order.sagaStyle.rawValue)!,
                status: saga.status.rawValue,
                timeline: saga.log.map { entry in
                    .init(at: entry.at, step: entry.step ?? "", kind: entry.kind.rawValue, attempt: entry.attempt ?? 0, detail: entry.detail)
                }
            )
        )
    }
}
