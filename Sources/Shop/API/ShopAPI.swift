import Foundation
import InterchangeCore
import OpenAPIRuntime
import ServiceRuntime

/// The shop's API (openapi/shop.yaml): validates what the document cannot state for the generated decoder (ranges,
/// patterns, list sizes), asks the store and the checkout, and answers in the document's shapes.
///
/// Every refusal is a thrown ``ProblemError`` naming the field (`lines[2].quantity`) or parameter (`orderId`);
/// `ProblemMiddleware` renders it as problem+json.
struct ShopAPI: APIProtocol {
    let store: ShopStore
    let checkout: @Sendable () throws -> OrderCheckout

    /// The most lines an order may have (the document's `maxItems`).
    static let maxLines = 50
    static let maxProductIDLength = 100

    func listProducts(_ input: Operations.ListProducts.Input) async throws -> Operations.ListProducts.Output {
        let products = try await store.products()
        return .ok(.init(body: .json(.init(data: products.map(Self.product)))))
    }

    func createOrder(_ input: Operations.CreateOrder.Input) async throws -> Operations.CreateOrder.Output {
        guard case .json(let body) = input.body else { throw ProblemError.invalidBody("must be application/json") }
        let lines = try Self.validated(body.lines)
        let order: Order
        do {
            order = try await store.createOrder(lines: lines)
        } catch let error as ShopStoreError {
            throw Self.problem(error)
        }
        return .created(.init(headers: .init(location: Self.location(of: order.id)), body: .json(Self.order(order))))
    }

    func getOrder(_ input: Operations.GetOrder.Input) async throws -> Operations.GetOrder.Output {
        let id = try Self.orderID(input.path.orderId)
        guard let order = try await store.order(id: id) else { throw Self.problem(ShopStoreError.orderNotFound(id)) }
        return .ok(.init(body: .json(Self.order(order))))
    }

    func createCheckoutSession(_ input: Operations.CreateCheckoutSession.Input) async throws -> Operations.CreateCheckoutSession.Output {
        let id = try Self.orderID(input.path.orderId)
        do {
            let session = try await checkout().session(forOrder: id)
            return .ok(.init(body: .json(.init(sessionId: session.id, url: session.url, expiresAt: session.expiresAt))))
        } catch let error as ShopStoreError {
            throw Self.problem(error)
        } catch let error as StripeRequestError {
            throw Self.problem(error)
        }
    }

    // MARK: Validation

    /// The lines, or a 400 naming the first bad one (0-based, as JSON paths are: `lines[2].quantity`).
    static func validated(_ lines: [Components.Schemas.OrderLineCreate]) throws -> [(productID: String, quantity: Int)] {
        guard !lines.isEmpty else { throw problem(ShopStoreError.emptyOrder) }
        guard lines.count <= maxLines else {
            throw ProblemError.invalidBody("must hold at most \(maxLines) lines (got \(lines.count))", field: "lines")
        }
        for (index, line) in lines.enumerated() {
            guard (1...maxProductIDLength).contains(line.productId.unicodeScalars.count) else {
                throw ProblemError.invalidBody("must be 1 to \(maxProductIDLength) characters", field: "lines[\(index)].productId")
            }
            guard OrderLine.quantityRange.contains(line.quantity) else {
                throw problem(ShopStoreError.invalidQuantity(lineIndex: index, quantity: line.quantity))
            }
        }
        return lines.map { (productID: $0.productId, quantity: $0.quantity) }
    }

    /// `ord_` and 1-64 ASCII letters or digits, or a 400 naming `orderId`.
    static func orderID(_ id: String) throws -> String {
        let rest = id.utf8.dropFirst(4)
        func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        }
        guard id.hasPrefix("ord_"), (1...64).contains(rest.count), rest.allSatisfy(isASCIIAlphanumeric) else {
            throw ProblemError.invalidParameter("orderId", "must be ord_ followed by 1 to 64 letters or digits")
        }
        return id
    }

    static func location(of orderID: String) -> String { "/shop/api/orders/\(orderID)" }

    // MARK: Problems

    /// The problem for a refusal of the store — also what ``validated(_:)`` throws, so a line the API refuses and
    /// one the store refuses read the same.
    static func problem(_ error: ShopStoreError) -> ProblemError {
        switch error {
        case .emptyOrder:
            return .invalidBody("must hold at least one line", field: "lines")
        case .invalidQuantity(let index, let quantity):
            let range = OrderLine.quantityRange
            return .invalidBody("must be \(range.lowerBound) to \(range.upperBound) (got \(quantity))", field: "lines[\(index)].quantity")
        case .unknownProduct(let index, let productID):
            return ProblemError(
                ProblemDetails(
                    status: 404,
                    title: "Unknown product",
                    detail: "lines[\(index)].productId: no product '\(productID.prefix(100))' in the catalogue",
                    type: ProblemError.typeBase + "not-found",
                    extensions: ["field": .string("lines[\(index)].productId")]
                )
            )
        case .orderNotFound(let id):
            return ProblemError(
                ProblemDetails(
                    status: 404,
                    title: "Not Found",
                    detail: "no order \(id)",
                    type: ProblemError.typeBase + "not-found",
                    extensions: ["parameter": .string("orderId")]
                )
            )
        case .notPayable(let id, let status):
            return ProblemError(
                ProblemDetails(
                    status: 409,
                    title: "Order not payable",
                    detail: "order \(id) is \(status.rawValue) and cannot be checked out",
                    type: ProblemError.typeBase + "order-not-payable",
                    extensions: ["status": .string(status.rawValue)]
                )
            )
        }
    }

    /// `503` with `Retry-After` when Stripe could not be asked (the order stays payable), `502` when it refused.
    static func problem(_ error: StripeRequestError) -> ProblemError {
        switch error.code {
        case .unavailable:
            return .upstream(
                status: 503,
                title: "Stripe unavailable",
                detail: "\(error.message); the order is unchanged and can be checked out again",
                upstream: StripeCheckoutClient.upstreamName,
                retryAfter: error.retryAfter ?? .seconds(5)
            )
        default:
            return .upstream(
                status: 502,
                title: "Stripe refused the checkout",
                detail: error.description,
                upstream: StripeCheckoutClient.upstreamName
            )
        }
    }

    // MARK: Shapes

    static func product(_ product: Product) -> Components.Schemas.Product {
        .init(id: product.id, name: product.name, description: product.description, unitAmount: product.unitAmount, currency: product.currency)
    }

    static func status(_ status: OrderStatus) -> Components.Schemas.OrderStatus {
        // The two enums are generated from and written to one list; a test holds them equal.
        Components.Schemas.OrderStatus(rawValue: status.rawValue)!
    }

    static func order(_ order: Order) -> Components.Schemas.Order {
        Components.Schemas.Order(
            id: order.id,
            status: status(order.status),
            paymentStatus: Components.Schemas.PaymentStatus(rawValue: order.paymentStatus.rawValue)!,
            currency: order.currency,
            amountTotal: order.amountTotal,
            lines: order.lines.map {
                .init(productId: $0.productID, name: $0.name, unitAmount: $0.unitAmount, quantity: $0.quantity, amount: $0.amount)
            },
            checkout: order.checkout.map { .init(sessionId: $0.id, url: $0.url, expiresAt: $0.expiresAt) },
            flags: order.flags,
            createdAt: order.createdAt,
            updatedAt: order.updatedAt,
            timeline: order.timeline.map { entry in
                .init(at: entry.at, kind: entry.kind, message: entry.message, from: entry.from.map(status), to: entry.to.map(status))
            }
        )
    }
}
