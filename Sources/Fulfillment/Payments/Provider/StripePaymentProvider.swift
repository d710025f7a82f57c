import Foundation
import HTTPIntegration
import HTTPTypes
import Logging
import Resilience

/// Charges through Stripe's PaymentIntents API — `POST /v1/payment_intents` with `confirm=true` and a test payment
/// method (`pm_card_visa` by default) — and refunds with `POST /v1/refunds`, through a ``ResilientHTTPClient`` named
/// `stripe` (its own breaker, retries and metrics label), form-encoded as Stripe takes requests.
///
/// ```swift
/// let stripe = try StripePaymentProvider(configuration: .init(secretKey: "sk_test_…"), apiBase: { "https://api.stripe.com" })
/// let outcome = try await stripe.charge(ChargeRequest(orderID: "o-1", userID: "u-1", amountCents: 1200, currency: "usd"))
/// ```
///
/// **A retried charge never charges twice.** Every charge carries `Idempotency-Key:
/// interchange-fulfillment-charge-<order id>` and parameters derived only from the order, so a repeat — the client's
/// own retry after a `409`/`5xx`, the handler's after a timeout, another process's — gets Stripe's stored answer
/// (the same payment intent) instead of a second charge. Refunds carry `interchange-fulfillment-refund-<order id>`.
///
/// A `402` card error (or an intent left `requires_payment_method`) is a decline, not an error. A timeout is
/// ``PaymentProviderError/Code/timeout`` (the intent may exist: ask again with the same request), Stripe unreachable
/// or still answering `409`/`429`/`5xx` after the retries is ``PaymentProviderError/Code/unavailable``, any other
/// `4xx` is ``PaymentProviderError/Code/rejected``. The secret key travels only in `Authorization`.
public struct StripePaymentProvider: PaymentProvider {
    public struct Configuration: Sendable {
        /// `sk_test_…` (or the simulator's key).
        public var secretKey: String
        /// The payment method every intent is confirmed with: a Stripe test method — `pm_card_visa` succeeds, a decline
        /// method (`pm_card_chargeDeclined`, `pm_card_chargeDeclinedInsufficientFunds`, …) makes every charge a decline,
        /// at Stripe's test mode and at Interchange's Stripe simulator alike (`payments.stripe.paymentMethod`).
        public var paymentMethod: String
        /// Sent as `Stripe-Version`.
        public var apiVersion: String
        /// Retries, breaker and timeouts for calls to Stripe.
        public var policy: HostPolicy

        public init(
            secretKey: String,
            paymentMethod: String = "pm_card_visa",
            apiVersion: String = "2024-06-20",
            policy: HostPolicy = StripePaymentProvider.defaultPolicy
        ) {
            self.secretKey = secretKey
            self.paymentMethod = paymentMethod
            self.apiVersion = apiVersion
            self.policy = policy
        }
    }

    /// Three attempts on `409`/`429`/`5xx` (the idempotency key makes a repeated POST safe), 10 s per attempt,
    /// 20 s per call, a breaker opening at half of the last 20 calls failing.
    public static let defaultPolicy = HostPolicy(
        name: "stripe",
        retry: RetryPolicy(maxAttempts: 3, retryableStatuses: Set([409, 429]).union(500...599)),
        circuitBreaker: .init(
            failureRateThreshold: 50,
            slowCallDurationThreshold: .seconds(10),
            slidingWindow: .countBased(size: 20),
            minimumNumberOfCalls: 10,
            waitDurationInOpenState: .seconds(30),
            permittedCallsInHalfOpenState: 2
        ),
        attemptTimeout: .seconds(10),
        totalTimeout: .seconds(20)
    )

    public let name = "stripe"
    public let configuration: Configuration
    private let client: ResilientHTTPClient
    private let apiBase: @Sendable () -> String

    /// - Parameters:
    ///   - apiBase: Stripe's base URL (`https://api.stripe.com`, or a simulator's), read per call.
    ///   - clock: drives timeouts, backoff and the breaker.
    /// - Throws: ``ConfigurationError`` naming the policy field that cannot work.
    public init(
        configuration: Configuration,
        apiBase: @escaping @Sendable () -> String,
        logger: Logger = Logger(label: "interchange.fulfillment.payments.stripe"),
        clock: some Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        var policy = configuration.policy
        policy.name = policy.name ?? "stripe"
        policy.authentication = .bearer(configuration.secretKey)
        self.configuration = configuration
        self.client = try ResilientHTTPClient(
            configuration: .init(name: "stripe", defaultPolicy: policy),
            logger: logger,
            clock: clock,
            now: now
        )
        self.apiBase = apiBase
    }

    /// Closes the client's connections.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// The form fields of the charge's `POST /v1/payment_intents`, in the order they are sent.
    public func chargeForm(_ request: ChargeRequest) -> [(String, String)] {
        [
            ("amount", "\(request.amountCents)"),
            ("currency", request.currency),
            ("payment_method", configuration.paymentMethod),
            ("confirm", "true"),
            ("automatic_payment_methods[enabled]", "true"),
            ("automatic_payment_methods[allow_redirects]", "never"),
            ("description", "Interchange order \(request.orderID)"),
            ("metadata[order_id]", request.orderID),
            ("metadata[user_id]", request.userID),
        ]
    }

    public func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
        struct Intent: Decodable {
            struct PaymentError: Decodable {
                let code: String?
                let decline_code: String?
                let message: String?
            }
            let id: String
            let status: String
            let last_payment_error: PaymentError?
        }
        let response = try await send("/v1/payment_intents", form: chargeForm(request), idempotencyKey: request.idempotencyKey)
        if response.status.code == 402, let declined = Self.stripeError(response), declined.type == "card_error" {
            return .declined(.init(code: declined.decline_code ?? declined.code ?? "card_declined", message: declined.message ?? "declined"))
        }
        guard response.isSuccess else { throw rejection(response) }
        let intent: Intent = try decode(response)
        switch intent.status {
        case "succeeded", "processing", "requires_capture":
            return .charged(.init(providerPaymentID: intent.id))
        default:
            let error = intent.last_payment_error
            return .declined(
                .init(
                    code: error?.decline_code ?? error?.code ?? intent.status,
                    message: error?.message ?? "the payment intent is \(intent.status)"
                )
            )
        }
    }

    public func refund(_ request: RefundRequest) async throws -> RefundReceipt {
        struct Refund: Decodable {
            let id: String
            let amount: Int
        }
        let form = [
            ("payment_intent", request.providerPaymentID),
            ("amount", "\(request.amountCents)"),
            ("metadata[order_id]", request.orderID),
        ]
        let response = try await send("/v1/refunds", form: form, idempotencyKey: request.idempotencyKey)
        guard response.isSuccess else { throw rejection(response) }
        let refund: Refund = try decode(response)
        return RefundReceipt(refundID: refund.id, amountCents: refund.amount)
    }

    // MARK: Wire

    private func send(_ path: String, form: [(String, String)], idempotencyKey: String) async throws -> ClientResponse {
        let base = apiBase()
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        var request: ClientRequest
        do {
            request = try ClientRequest(method: .post, url: trimmed + path)
        } catch {
            throw PaymentProviderError(code: .rejected, provider: name, message: "cannot call Stripe at \(trimmed): \(error)")
        }
        request.headerFields[.idempotencyKey] = idempotencyKey
        request.headerFields[Self.stripeVersion] = configuration.apiVersion
        request.setFormBody(form)
        do {
            let response = try await client.send(request)
            let status = Int(response.status.code)
            if status == 409 || status == 429 || status >= 500 {
                throw PaymentProviderError(code: .unavailable, provider: name, message: "Stripe kept answering \(status)")
            }
            return response
        } catch let error as HTTPIntegrationError {
            switch error.code {
            case .timeout:
                throw PaymentProviderError(code: .timeout, provider: name, message: "Stripe did not answer in time")
            case .circuitOpen:
                throw PaymentProviderError(code: .unavailable, provider: name, message: "Stripe's circuit is open after repeated failures")
            case .unsuccessfulStatus:
                let status = error.status.map { Int($0.code) } ?? 0
                throw PaymentProviderError(code: .unavailable, provider: name, message: "Stripe kept answering \(status)")
            default:
                throw PaymentProviderError(code: .unavailable, provider: name, message: "Stripe cannot be reached (\(error.code))")
            }
        }
    }

    private struct StripeErrorBody: Decodable {
        let type: String?
        let code: String?
        let decline_code: String?
        let message: String?
    }

    private static func stripeError(_ response: ClientResponse) -> StripeErrorBody? {
        struct Envelope: Decodable { let error: StripeErrorBody }
        return try? JSONDecoder().decode(Envelope.self, from: Data(response.text.utf8)).error
    }

    private func rejection(_ response: ClientResponse) -> PaymentProviderError {
        let status = Int(response.status.code)
        let body = Self.stripeError(response)
        let detail = [body?.type, body?.code].compactMap { $0 }.joined(separator: "/")
        let message = Self.redacted(body?.message ?? "no error object")
        return PaymentProviderError(
            code: .rejected,
            provider: name,
            message: "Stripe answered \(status)\(detail.isEmpty ? "" : " \(detail)"): \(message)"
        )
    }

    private func decode<T: Decodable>(_ response: ClientResponse) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.text.utf8))
        } catch {
            throw PaymentProviderError(code: .rejected, provider: name, message: "unexpected answer from Stripe: \(error)")
        }
    }

    /// `message` without API keys, as Stripe's messages may quote a masked one.
    static func redacted(_ message: String) -> String {
        message.replacingOccurrences(of: #"\b(sk|rk|pk)_(test|live)_[A-Za-z0-9*]+"#, with: "$1_$2_REDACTED", options: .regularExpression)
    }

    static let stripeVersion = HTTPField.Name("Stripe-Version")!
}
