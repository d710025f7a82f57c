import Foundation

/// An event a consumer group gave up on: its handler answered ``DeliveryOutcome/deadLetter(reason:)``, or failed
/// ``Subscription/maxAttempts`` times. Kept in `messaging_dead_letters` for an operator.
public struct DeadLetter: Sendable, Hashable {
    public var group: String
    public var event: CloudEvent
    /// Deliveries made, the last included.
    public var attempts: Int
    /// The reason of the last failed attempt.
    public var lastError: String
    public var deadAt: Date

    public init(group: String, event: CloudEvent, attempts: Int, lastError: String, deadAt: Date) {
        self.group = group
        self.event = event
        self.attempts = attempts
        self.lastError = lastError
        self.deadAt = deadAt
    }
}
