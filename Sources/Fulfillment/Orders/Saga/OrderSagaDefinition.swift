import Foundation
import FulfillmentEvents
import Resilience
import Sagas

/// The saga of an order: reserve the stock (undone by releasing it), charge the payment (undone by a refund), confirm
/// (local, nothing to undo). Each style is its own definition (its own name in the `sagas` table), so the orchestrator
/// and the tracker each scan only their own sagas' deadlines.
enum OrderSagaDefinition {
    /// The orchestrated saga's name.
    static let orchestrated = "fulfillment.place-order"
    /// The choreographed saga's name.
    static let choreographed = "fulfillment.place-order.choreographed"
    static let reserve = "reserve-inventory"
    static let charge = "charge-payment"
    static let confirm = "confirm"

    /// The definition for `style`. In choreography no command can be sent again, so a step's timeout fails it at once
    /// (`maxAttempts` 1) and the saga compensates; orchestration retries the same command up to `stepMaxAttempts`.
    static func definition(_ configuration: OrdersConfiguration, style: FulfillmentSagaStyle) -> SagaDefinition {
        let attempts = style == .orchestration ? configuration.stepMaxAttempts : 1
        return SagaDefinition(name: style == .orchestration ? orchestrated : choreographed) {
            SagaStep(reserve, timeout: configuration.reserveTimeout, maxAttempts: attempts, retryDelay: retryDelay)
            SagaStep(charge, timeout: configuration.chargeTimeout, maxAttempts: attempts, retryDelay: retryDelay)
            SagaStep(confirm, timeout: .seconds(60), maxAttempts: 1, retryDelay: retryDelay, compensates: false)
        }
    }

    /// A timed-out attempt is sent again at once: the timeout was the wait.
    static let retryDelay: Backoff = {
        do {
            return try Backoff(initial: .zero, maxDelay: .zero, growth: .constant, jitter: .none)
        } catch {
            preconditionFailure("a zero constant backoff is valid: \(error)")
        }
    }()
}
