/// What ``ShopStore/apply(event:)`` did with a Stripe event.
public enum EventOutcome: Sendable, Hashable {
    /// Folded into the order; `entries` are what it added to the order's timeline (a rejected transition is one).
    case applied(orderID: String, entries: [TimelineEntry])
    /// The event id was processed before: nothing changed.
    case duplicate(eventID: String)
    /// A type the shop does not act on: recorded as ignored.
    case ignored(eventID: String, type: String)
    /// No order matches the event (by metadata `order_id`, `client_reference_id`, payment intent or session):
    /// recorded, so it is not retried.
    case orderNotFound(eventID: String)
}
