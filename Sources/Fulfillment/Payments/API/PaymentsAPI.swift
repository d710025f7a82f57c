import Foundation
import InterchangeCore
import OpenAPIRuntime
import ServiceRuntime

/// The payments API (`openapi.yaml`, served at `/payments/api/openapi.yaml`): reads payments and switches the
/// simulated provider. Checks what the generated decoder does not (patterns, ranges); every refusal is a thrown
/// ``ProblemError`` naming the parameter or field, rendered by `ProblemMiddleware`.
struct PaymentsAPI: APIProtocol {
    let store: PaymentStore
    let provider: any PaymentProvider

    static let maxLatencyMs = 60_000

    func listPayments(_ input: Operations.ListPayments.Input) async throws -> Operations.ListPayments.Output {
        if let orderID = input.query.orderId { try Self.checkOrderID(orderID) }
        let limit = input.query.limit ?? 100
        guard (1...500).contains(limit) else { throw ProblemError.invalidParameter("limit", "must be 1 to 500 (got \(limit))") }
        let payments = try await store.payments(orderID: input.query.orderId, limit: limit)
        return .ok(.init(body: .json(.init(data: payments.map(Self.payment)))))
    }

    func getPayment(_ input: Operations.GetPayment.Input) async throws -> Operations.GetPayment.Output {
        let id = input.path.paymentId
        guard Self.isPaymentID(id) else { throw ProblemError.invalidParameter("paymentId", "must be pay_ followed by 32 lower-case hex digits") }
        guard let payment = try await store.payment(id: id) else { throw ProblemError.notFound("no payment \(id)") }
        return .ok(.init(body: .json(Self.payment(payment))))
    }

    func getProvider(_ input: Operations.GetProvider.Input) async throws -> Operations.GetProvider.Output {
        .ok(.init(body: .json(describe())))
    }

    func setProvider(_ input: Operations.SetProvider.Input) async throws -> Operations.SetProvider.Output {
        guard case .json(let body) = input.body else { throw ProblemError.invalidBody("must be application/json") }
        guard let simulated = provider as? SimulatedPaymentProvider else {
            throw ProblemError(
                ProblemDetails(
                    status: 409,
                    title: "The provider has no switch",
                    detail: "this service charges through \(provider.name); only the simulated provider can be switched",
                    type: ProblemError.typeBase + "provider-not-switchable"
                )
            )
        }
        let latency = body.latencyMs ?? 0
        guard (0...Self.maxLatencyMs).contains(latency) else {
            throw ProblemError.invalidBody("must be 0 to \(Self.maxLatencyMs) (got \(latency))", field: "latencyMs")
        }
        let mode: SimulatedPaymentProvider.Settings.Mode =
            switch body.mode {
            case .ok: .ok
            case .decline: .decline
            case .timeout: .timeout
            }
        simulated.settings = .init(mode: mode, latency: .milliseconds(latency))
        return .ok(.init(body: .json(describe())))
    }

    // MARK: Shapes

    private func describe() -> Components.Schemas.Provider {
        guard let simulated = provider as? SimulatedPaymentProvider else { return .init(name: provider.name) }
        let settings = simulated.settings
        let mode: Components.Schemas.ProviderMode =
            switch settings.mode {
            case .ok: .ok
            case .decline: .decline
            case .timeout: .timeout
            }
        return .init(
            name: simulated.name,
            mode: mode,
            latencyMs: Int(settings.latency / .milliseconds(1)),
            charges: simulated.chargeCount,
            refunds: simulated.refundCount
        )
    }

    static func payment(_ payment: Payment) -> Components.Schemas.Payment {
        let status: Components.Schemas.PaymentStatus =
            switch payment.status {
            case .charged: .charged
            case .refunded: .refunded
            case .failed: .failed
            }
        return .init(
            id: payment.id,
            orderId: payment.orderID,
            userId: payment.userID,
            amountCents: payment.amountCents,
            currency: payment.currency,
            status: status,
            provider: payment.provider,
            providerPaymentId: payment.providerPaymentID,
            refundId: payment.refundID,
            refundedCents: payment.refundedCents,
            reason: payment.reason,
            declineCode: payment.declineCode,
            createdAt: payment.createdAt,
            updatedAt: payment.updatedAt
        )
    }

    // MARK: Validation

    static func checkOrderID(_ id: String) throws {
        let allowed = id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
                true
            default: false
            }
        }
        guard (1...128).contains(id.utf8.count), allowed else {
            throw ProblemError.invalidParameter("orderId", "must be 1 to 128 letters, digits, '_', '-' or '.'")
        }
    }

    static func isPaymentID(_ id: String) -> Bool {
        let hex = id.utf8.dropFirst(4)
        return id.hasPrefix("pay_") && hex.count == 32
            && hex.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}
