import Foundation
import Logging
import Resilience

/// Opens the Stripe Checkout session that pays an order — one per order and attempt, however many calls ask.
///
/// Two layers make "50 concurrent checkout calls → one session" hold:
/// - in this process, concurrent calls for one order share one flight (``SingleFlightCache``): one asks the store
///   and Stripe, the rest wait for its answer (or its error);
/// - across processes and retries, the call to Stripe carries an `Idempotency-Key` from order and attempt
///   (``StripeCheckoutClient/SessionRequest/idempotencyKey``), so Stripe answers a repeat with the same session.
///
/// Once a session is recorded, the store hands it out again while it is open (``CheckoutPlan/reuse(_:)``).
/// When Stripe cannot be reached, the failure is added to the order's timeline and the order stays payable.
public final class OrderCheckout: Sendable {
    public let store: ShopStore
    public let stripe: StripeCheckoutClient
    private let shopBaseURL: @Sendable () -> String
    private let flights: SingleFlightCache<String, CheckoutSessionRef>
    private let logger: Logger
    /// Test seam: runs after Stripe opened a session and before the store records it, so a test can throw here to
    /// play a process that crashed in between.
    private let afterSessionOpened: @Sendable (CheckoutSessionRef) async throws -> Void

    /// - Parameter shopBaseURL: where buyers' browsers reach the shop, for the success and cancel URLs.
    public convenience init(store: ShopStore, stripe: StripeCheckoutClient, shopBaseURL: @escaping @Sendable () -> String, logger: Logger) throws {
        try self.init(store: store, stripe: stripe, shopBaseURL: shopBaseURL, logger: logger, afterSessionOpened: { _ in })
    }

    init(
        store: ShopStore,
        stripe: StripeCheckoutClient,
        shopBaseURL: @escaping @Sendable () -> String,
        logger: Logger,
        afterSessionOpened: @escaping @Sendable (CheckoutSessionRef) async throws -> Void
    ) throws {
        self.store = store
        self.stripe = stripe
        self.shopBaseURL = shopBaseURL
        // A flight's answer is kept a moment only: afterwards the store is the truth (and hands the session out again).
        self.flights = try SingleFlightCache(ttl: .milliseconds(1), maxEntries: 1000)
        self.logger = logger
        self.afterSessionOpened = afterSessionOpened
    }

    /// The session to send the buyer to.
    ///
    /// - Throws: ``ShopStoreError/orderNotFound(_:)``, ``ShopStoreError/notPayable(orderID:status:)``, or
    ///   ``StripeRequestError`` (recorded in the order's timeline).
    public func session(forOrder orderID: String) async throws -> CheckoutSessionRef {
        try await flights.value(for: orderID) { [self] in try await self.openOrReuse(orderID) }.value
    }

    private func openOrReuse(_ orderID: String) async throws -> CheckoutSessionRef {
        switch try await store.checkoutAttempt(orderID: orderID, sessionLifetime: stripe.configuration.sessionLifetime) {
        case .reuse(let session):
            return session
        case .create(let attempt, let expiresAt, let order):
            let request = StripeCheckoutClient.SessionRequest(order: order, attempt: attempt, expiresAt: expiresAt, shopBaseURL: shopBaseURL())
            let session: CheckoutSessionRef
            do {
                session = try await stripe.createSession(request)
            } catch let error as StripeRequestError {
                logger.warning("cannot open a checkout session", metadata: ["order": "\(orderID)", "error": "\(error)"])
                do {
                    try await store.recordCheckoutFailure(orderID: orderID, reason: error.message)
                } catch {
                    logger.error("cannot record a checkout failure", metadata: ["order": "\(orderID)", "error": "\(error)"])
                }
                throw error
            }
            try await afterSessionOpened(session)
            _ = try await store.recordCheckoutSession(orderID: orderID, session: session)
            logger.debug("checkout session opened", metadata: ["order": "\(orderID)", "session": "\(session.id)", "attempt": "\(attempt)"])
            return session
        }
    }
}
