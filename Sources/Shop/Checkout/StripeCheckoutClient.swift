import Foundation
import HTTPIntegration
import HTTPTypes
import InterchangeCore
import Logging
import NIOCore
import Resilience

/// The part of Stripe's API the shop calls: `POST /v1/checkout/sessions`, and webhook endpoints (to register itself
/// with the simulator). Form-encoded requests, as Stripe's API takes them, through a ``ResilientHTTPClient`` named
/// `stripe` (its own breaker, retry budget and metrics label).
///
/// ```swift
/// let stripe = try StripeCheckoutClient(configuration: .init(secretKey: key), apiBase: { "https://api.stripe.com" })
/// let request = StripeCheckoutClient.SessionRequest(order: order, attempt: 1, expiresAt: plannedExpiry, shopBaseURL: base)
/// let session = try await stripe.createSession(request)
/// ```
///
/// **Retries are safe.** Every session request carries `Idempotency-Key: interchange-checkout-<order>-<attempt>`,
/// and every parameter is derived from the stored order and attempt (the expiry was stored when the attempt was
/// planned), so a retried call — by this client, after a timeout, by another process, or hours later after a crash —
/// gets the same session back from Stripe instead of opening a second one. Stripe's `409` (the key's first request is still running), `429` and `5xx` are retried with backoff;
/// other `4xx` are Stripe refusing the request and are not.
///
/// The secret key travels only in the `Authorization` header, which the client never logs; Stripe's error messages,
/// which may quote a masked key, are passed on with anything shaped like a key removed.
public struct StripeCheckoutClient: Sendable {
    public struct Configuration: Sendable {
        /// `sk_test_…` / `sk_live_…` (or a restricted `rk_…` key).
        public var secretKey: String
        /// Sent as `Stripe-Version` on every request, so the objects' shapes do not change with the account's default.
        public var apiVersion: String
        /// Retries, breaker and timeouts for calls to Stripe.
        public var policy: HostPolicy
        /// How long a new Checkout session stays open (Stripe allows 30 minutes to 24 hours).
        public var sessionLifetime: Duration

        public init(
            secretKey: String,
            apiVersion: String = StripeCheckoutClient.apiVersion,
            policy: HostPolicy = StripeCheckoutClient.defaultPolicy,
            sessionLifetime: Duration = .seconds(24 * 3600)
        ) {
            self.secretKey = secretKey
            self.apiVersion = apiVersion
            self.policy = policy
            self.sessionLifetime = sessionLifetime
        }
    }

    /// The API version the shop is written against (the simulator's too).
    public static let apiVersion = "2024-06-20"

    /// What the client calls its upstream in metrics, logs and breaker names.
    public static let upstreamName = "stripe"

    /// The statuses worth another attempt: Stripe's `409` (idempotency key in use, lock timeout), `429` and `5xx`.
    public static let retryableStatuses: Set<Int> = Set([409, 429]).union(500...599)

    /// Three attempts with jittered backoff (a `Retry-After` wins), a breaker that opens at half of the last 20 calls
    /// failing (once 10 were made) for 30 s, 10 s per attempt and 20 s per call.
    public static let defaultPolicy = HostPolicy(
        name: upstreamName,
        retry: RetryPolicy(maxAttempts: 3, retryableStatuses: retryableStatuses),
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

    /// One Checkout session to open: everything Stripe is sent, derived from the stored order (never from a client).
    public struct SessionRequest: Sendable, Hashable {
        public struct Line: Sendable, Hashable {
            public var name: String
            public var unitAmount: Int
            public var quantity: Int
        }

        public var orderID: String
        public var attempt: Int
        public var currency: String
        public var lines: [Line]
        public var successURL: String
        public var cancelURL: String
        public var expiresAt: Date

        /// The session for `order`'s `attempt`, with its stored lines and prices, expiring at `expiresAt`.
        ///
        /// Pass the expiry stored when the attempt was planned (``CheckoutPlan/create(attempt:expiresAt:order:)``):
        /// every call for one attempt must send the same parameters, as Stripe refuses a reused `Idempotency-Key`
        /// with different ones.
        ///
        /// - Parameter shopBaseURL: where the buyer's browser reaches the shop (`https://shop.example`).
        public init(order: Order, attempt: Int, expiresAt: Date, shopBaseURL: String) {
            self.orderID = order.id
            self.attempt = attempt
            self.currency = order.currency
            self.lines = order.lines.map { Line(name: $0.name, unitAmount: $0.unitAmount, quantity: $0.quantity) }
            let base = shopBaseURL.hasSuffix("/") ? String(shopBaseURL.dropLast()) : shopBaseURL
            let order = Self.queryEncoded(order.id)
            // {CHECKOUT_SESSION_ID} is Stripe's template: it must reach Stripe unencoded, and Stripe fills it in.
            self.successURL = "\(base)/shop/success.html?order=\(order)&session_id={CHECKOUT_SESSION_ID}"
            self.cancelURL = "\(base)/shop/cancel.html?order=\(order)"
            self.expiresAt = expiresAt
        }

        /// A one-off session expiring `lifetime` after `now`, for callers that do not retry it later (benchmarks, tools);
        /// the shop's checkout plans the expiry per attempt instead (``ShopStore/checkoutAttempt(orderID:sessionLifetime:)``).
        public init(order: Order, attempt: Int, shopBaseURL: String, now: Date, lifetime: Duration = .seconds(24 * 3600)) {
            self.init(
                order: order,
                attempt: attempt,
                expiresAt: now.addingTimeInterval(TimeInterval(lifetime.components.seconds)),
                shopBaseURL: shopBaseURL
            )
        }

        private static func queryEncoded(_ value: String) -> String {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
        }

        /// The form fields of `POST /v1/checkout/sessions`, in the order they are sent.
        public var formFields: [(String, String)] {
            var fields: [(String, String)] = [
                ("mode", "payment"),
                ("success_url", successURL),
                ("cancel_url", cancelURL),
                ("client_reference_id", orderID),
                ("metadata[order_id]", orderID),
                ("payment_intent_data[metadata][order_id]", orderID),
                ("expires_at", "\(Int64(expiresAt.timeIntervalSince1970))"),
            ]
            for (index, line) in lines.enumerated() {
                fields.append(("line_items[\(index)][price_data][currency]", currency))
                fields.append(("line_items[\(index)][price_data][unit_amount]", "\(line.unitAmount)"))
                fields.append(("line_items[\(index)][price_data][product_data][name]", line.name))
                fields.append(("line_items[\(index)][quantity]", "\(line.quantity)"))
            }
            return fields
        }

        /// `interchange-checkout-<order id>-<attempt>`: the same for every retry of one attempt, new for the next.
        public var idempotencyKey: String { StripeCheckoutClient.idempotencyKey(orderID: orderID, attempt: attempt) }
    }

    /// The `Idempotency-Key` of the session for `orderID`'s `attempt`.
    public static func idempotencyKey(orderID: String, attempt: Int) -> String {
        "interchange-checkout-\(orderID)-\(attempt)"
    }

    /// A webhook endpoint registered with Stripe (or the simulator), with its signing secret.
    public struct WebhookEndpoint: Sendable, Hashable, Codable {
        public var id: String
        public var url: String
        /// `whsec_…`; only in the answer to the creation.
        public var secret: String?
    }

    public let configuration: Configuration
    private let client: ResilientHTTPClient
    private let apiBase: @Sendable () -> String
    private let logger: Logger

    /// - Parameters:
    ///   - apiBase: Stripe's base URL (`https://api.stripe.com`, or the simulator's), read per call: the embedded
    ///     simulator's address is known only once the server listens.
    ///   - clock: drives timeouts, backoff and the breaker; tests pass a manual one.
    /// - Throws: ``ConfigurationError`` naming the policy field that cannot work.
    public init(
        configuration: Configuration,
        apiBase: @escaping @Sendable () -> String,
        logger: Logger = Logger(label: "interchange.shop.stripe"),
        clock: some Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        var policy = configuration.policy
        policy.name = policy.name ?? Self.upstreamName
        policy.authentication = .bearer(configuration.secretKey)
        self.configuration = configuration
        self.client = try ResilientHTTPClient(
            configuration: .init(name: Self.upstreamName, defaultPolicy: policy),
            logger: logger,
            clock: clock,
            now: now
        )
        self.apiBase = apiBase
        self.logger = logger
    }

    /// Closes the client's connections.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// The breaker guarding calls to Stripe's host (`api.stripe.com`, `127.0.0.1:8080`), once one was made.
    public func circuitBreaker() -> CircuitBreaker? {
        guard let url = URL(string: apiBase()), let host = url.host else { return nil }
        return client.circuitBreaker(for: url.port.map { "\(host):\($0)" } ?? host)
    }

    /// Opens the Checkout session `request` describes (or gets back the one its idempotency key already opened).
    ///
    /// - Throws: ``StripeRequestError`` — ``StripeRequestError/Code/unavailable`` when Stripe cannot be reached, its circuit
    ///   is open, or it kept answering `409`/`429`/`5xx`; ``StripeRequestError/Code/rejected`` when it refused the request;
    ///   ``StripeRequestError/Code/invalidResponse`` for an answer that is not a session.
    public func createSession(_ request: SessionRequest) async throws -> CheckoutSessionRef {
        var headers = HTTPFields()
        headers[.idempotencyKey] = request.idempotencyKey
        let response = try await send(.post, "/v1/checkout/sessions", form: request.formFields, headers: headers)
        struct Session: Decodable {
            let id: String
            let url: String?
            let expires_at: Int64
        }
        let session: Session = try decode(response)
        guard let url = session.url, !url.isEmpty else {
            throw StripeRequestError(code: .invalidResponse, status: Int(response.status.code), message: "the session \(session.id) has no url")
        }
        return CheckoutSessionRef(
            id: session.id,
            url: url,
            expiresAt: Date(timeIntervalSince1970: TimeInterval(session.expires_at)),
            attempt: request.attempt
        )
    }

    /// `POST /v1/webhook_endpoints`: subscribes `url` to `events`; the answer holds the signing secret.
    public func createWebhookEndpoint(url: String, events: [String], idempotencyKey: String? = nil) async throws -> WebhookEndpoint {
        var headers = HTTPFields()
        if let idempotencyKey { headers[.idempotencyKey] = idempotencyKey }
        let form = [("url", url), ("api_version", configuration.apiVersion)] + events.map { ("enabled_events[]", $0) }
        return try decode(try await send(.post, "/v1/webhook_endpoints", form: form, headers: headers))
    }

    /// `GET /v1/webhook_endpoints` (the first 100).
    public func listWebhookEndpoints() async throws -> [WebhookEndpoint] {
        struct List: Decodable { let data: [WebhookEndpoint] }
        return try (decode(try await send(.get, "/v1/webhook_endpoints?limit=100", form: nil, headers: [:])) as List).data
    }

    /// `DELETE /v1/webhook_endpoints/<id>`.
    public func deleteWebhookEndpoint(id: String) async throws {
        _ = try await send(.delete, "/v1/webhook_endpoints/\(id)", form: nil, headers: [:])
    }

    // MARK: Wire

    private func send(_ method: HTTPRequest.Method, _ path: String, form: [(String, String)]?, headers: HTTPFields) async throws -> ClientResponse {
        let base = apiBase()
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        var request: ClientRequest
        do {
            request = try ClientRequest(method: method, url: trimmed + path, headerFields: headers)
        } catch {
            throw StripeRequestError(code: .rejected, status: nil, message: "cannot call Stripe at \(trimmed): \(error)")
        }
        request.headerFields[Self.stripeVersion] = configuration.apiVersion
        if let form { request.setFormBody(form) }
        let response: ClientResponse
        do {
            response = try await client.send(request)
        } catch let error as HTTPIntegrationError {
            throw StripeRequestError(unreachable: error)
        }
        guard response.isSuccess else { throw StripeRequestError(response: response) }
        return response
    }

    private func decode<T: Decodable>(_ response: ClientResponse) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
        } catch {
            throw StripeRequestError(code: .invalidResponse, status: Int(response.status.code), message: "unexpected answer from Stripe: \(error)")
        }
    }

    static let stripeVersion = HTTPField.Name("Stripe-Version")!
}

/// Stripe could not be asked, or refused: what a caller needs to answer its own client (and nothing secret).
public struct StripeRequestError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unavailable, rejected, invalidResponse
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Stripe did not answer in time, could not be connected to, its circuit is open, or it kept answering
        /// `409`/`429`/`5xx` through every retry: trying again later is right.
        public static let unavailable = Code(.unavailable)
        /// Stripe answered a `4xx` other than `409`/`429`: the request (or the key) is wrong; retrying will not help.
        public static let rejected = Code(.rejected)
        /// Stripe's answer was not what its API documents.
        public static let invalidResponse = Code(.invalidResponse)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Stripe's HTTP status, when it answered.
    public var status: Int?
    /// Stripe's error `type` (`invalid_request_error`, `idempotency_error`, …) and `code`, when it sent an error object.
    public var stripeType: String?
    public var stripeCode: String?
    /// The parameter Stripe named, if any.
    public var param: String?
    /// What went wrong, with anything shaped like an API key removed.
    public var message: String
    /// When to try again (Stripe's `Retry-After`, or the breaker's remaining open time).
    public var retryAfter: Duration?

    public init(
        code: Code,
        status: Int?,
        stripeType: String? = nil,
        stripeCode: String? = nil,
        param: String? = nil,
        message: String,
        retryAfter: Duration? = nil
    ) {
        self.code = code
        self.status = status
        self.stripeType = stripeType
        self.stripeCode = stripeCode
        self.param = param
        self.message = Self.redacted(message)
        self.retryAfter = retryAfter
    }

    init(unreachable error: HTTPIntegrationError) {
        let reason: String
        switch error.code {
        case .circuitOpen: reason = "Stripe's circuit is open after repeated failures"
        case .timeout: reason = "Stripe did not answer in time"
        case .transport: reason = "Stripe cannot be reached"
        default: reason = "the call to Stripe failed (\(error.code))"
        }
        self.init(code: .unavailable, status: error.status.map { Int($0.code) }, message: reason, retryAfter: error.retryAfter)
    }

    init(response: ClientResponse) {
        struct Envelope: Decodable {
            struct Body: Decodable {
                let type: String?
                let code: String?
                let message: String?
                let param: String?
            }
            let error: Body
        }
        let status = Int(response.status.code)
        let body = try? JSONDecoder().decode(Envelope.self, from: Data(buffer: response.body)).error
        let retryable = StripeCheckoutClient.retryableStatuses.contains(status)
        let retryAfter = response.headerFields[.retryAfter].flatMap(Int.init).map { Duration.seconds($0) }
        self.init(
            code: retryable ? .unavailable : .rejected,
            status: status,
            stripeType: body?.type,
            stripeCode: body?.code,
            param: body?.param,
            message: body?.message ?? "Stripe answered \(status) without an error object",
            retryAfter: retryAfter
        )
    }

    public var description: String {
        var text = "Stripe \(code)"
        if let status { text += " (\(status)" + (stripeType.map { " \($0)" } ?? "") + (stripeCode.map { "/\($0)" } ?? "") + ")" }
        return text + ": " + message
    }

    /// `message` without API keys (`sk_test_…`, `rk_live_…`, masked or not) or webhook secrets.
    static func redacted(_ message: String) -> String {
        message.replacingOccurrences(of: #"\b(sk|rk|pk)_(test|live)_[A-Za-z0-9*]+"#, with: "$1_$2_REDACTED", options: .regularExpression)
            .replacingOccurrences(of: #"\bwhsec_[A-Za-z0-9*]+"#, with: "whsec_REDACTED", options: .regularExpression)
    }
}
