import Foundation
import InterchangeCore
import Persistence
import SQLKit

/// The shop's data — catalog, orders and their lines, checkout sessions and payments, processed Stripe events,
/// order timelines, settings — in one SQL implementation for SQLite and PostgreSQL (SQLKit).
///
/// ```swift
/// let store = ShopStore(database: database)
/// try await store.prepare()                                   // migrate, seed the catalog
/// let order = try await store.createOrder(lines: [(productID: "prod_mug", quantity: 2)])
/// switch try await store.checkoutAttempt(orderID: order.id) {
/// case .reuse(let session): …                                 // hand out session.url again
/// case .create(let attempt, let order): …                     // open a session (Idempotency-Key from order + attempt), then
///     _ = try await store.recordCheckoutSession(orderID: order.id, session: ref)
/// }
/// let outcome = try await store.apply(event: try StripeEvent(json: payload))
/// ```
///
/// Every change to an order runs in one transaction that locks the order's row (PostgreSQL `SELECT … FOR UPDATE`;
/// SQLite serializes writers with `BEGIN IMMEDIATE`), so concurrent events for one order never lose an update, and
/// an event id is inserted into `shop_stripe_events` first, so the same event applied twice has one effect.
public final class ShopStore: Sendable {
    public let database: Database
    /// The clock that stamps orders and timelines and decides whether a session is still open; tests pass a manual one.
    public let now: @Sendable () -> Date

    public init(database: Database, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    /// Migrates the schema and seeds the catalog when it is empty.
    public func prepare() async throws {
        throw NotYetImplemented()
    }

    /// The catalog, in display order.
    public func products() async throws -> [Product] {
        throw NotYetImplemented()
    }

    /// Places an order for `lines`, copying names and prices from the catalog (never from the caller).
    ///
    /// - Throws: ``ShopStoreError/emptyOrder``, ``ShopStoreError/invalidQuantity(lineIndex:quantity:)``,
    ///   ``ShopStoreError/unknownProduct(lineIndex:productID:)`` naming the first bad line (0-based).
    public func createOrder(lines: [(productID: String, quantity: Int)]) async throws -> Order {
        throw NotYetImplemented()
    }

    /// The order with its lines and timeline; nil when there is none.
    public func order(id: String) async throws -> Order? {
        throw NotYetImplemented()
    }

    /// What a checkout call should do: reuse the open session (valid for at least another minute), or create one
    /// with the next attempt number (1 for the first; +1 after a session expired).
    ///
    /// - Throws: ``ShopStoreError/orderNotFound(_:)``; ``ShopStoreError/notPayable(orderID:status:)`` when the order is
    ///   paid, fulfilled, refunded, cancelled, or a payment is processing.
    public func checkoutAttempt(orderID: String) async throws -> CheckoutPlan {
        throw NotYetImplemented()
    }

    /// Records the session opened for `session.attempt`; the order moves to `awaiting_payment`.
    public func recordCheckoutSession(orderID: String, session: CheckoutSessionRef) async throws -> Order {
        throw NotYetImplemented()
    }

    /// Adds a `checkout.failed` timeline entry (Stripe unreachable, …); the order stays payable.
    public func recordCheckoutFailure(orderID: String, reason: String) async throws {
        throw NotYetImplemented()
    }

    /// Applies a Stripe event in one transaction: records its id (a second delivery is ``EventOutcome/duplicate(eventID:)``),
    /// finds the order, folds the event into its ``OrderLifecycle`` and writes status, payments and timeline.
    public func apply(event: StripeEvent) async throws -> EventOutcome {
        throw NotYetImplemented()
    }

    /// A stored setting; nil when unset.
    public func setting(_ key: String) async throws -> String? {
        throw NotYetImplemented()
    }

    /// Stores a setting, replacing any value.
    public func setSetting(_ key: String, _ value: String) async throws {
        throw NotYetImplemented()
    }
}

/// Placeholder while the store is being written (removed when it is).
private struct NotYetImplemented: Error, CustomStringConvertible {
    var description: String { "ShopStore: not implemented yet" }
}
