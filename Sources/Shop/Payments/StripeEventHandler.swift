import Logging
import WebhooksInbound

/// Processes Stripe events from the webhook inbox: decodes each one and applies it to its order in the store.
///
/// ```swift
/// let processor = InboxProcessor(inbox: inbox, handler: StripeEventHandler(store: store, logger: logger).handler)
/// ```
///
/// Event types the shop does not handle, and events whose order is unknown, are recorded by the store and
/// acknowledged (never retried). A payload that is not a Stripe event throws, so the inbox retries it and, after its
/// attempts, marks it failed for an operator.
public struct StripeEventHandler: Sendable {
    public let store: ShopStore
    private let logger: Logger

    public init(store: ShopStore, logger: Logger = Logger(label: "interchange.shop.stripe-events")) {
        self.store = store
        self.logger = logger
    }

    /// The handler to give ``InboxProcessor``.
    public var handler: InboxProcessor.Handler {
        { event in _ = try await self.handle(event) }
    }

    /// Decodes `event`'s payload and applies it; returns what the store did.
    ///
    /// - Throws: ``StripeEventDecodingError`` when the payload is not a Stripe event the shop can read; database errors.
    @discardableResult
    public func handle(_ event: WebhookInbox.Event) async throws -> EventOutcome {
        let decoded = try StripeEvent(json: event.payload)
        let outcome = try await store.apply(event: decoded)
        switch outcome {
        case .applied(let orderID, let entries):
            logger.debug(
                "stripe event applied",
                metadata: ["event": "\(decoded.id)", "type": "\(decoded.type)", "order": "\(orderID)", "entries": "\(entries.count)"]
            )
        case .duplicate:
            logger.debug("stripe event already processed", metadata: ["event": "\(decoded.id)"])
        case .ignored:
            logger.debug("stripe event type not handled by the shop", metadata: ["event": "\(decoded.id)", "type": "\(decoded.type)"])
        case .orderNotFound:
            logger.debug("stripe event for an unknown order", metadata: ["event": "\(decoded.id)", "type": "\(decoded.type)"])
        }
        return outcome
    }
}
