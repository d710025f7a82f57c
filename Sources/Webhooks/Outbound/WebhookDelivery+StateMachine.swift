import Foundation

/// The life of one delivery, as a value with no I/O: every rule of the delivery engine — what an attempt's
/// outcome does to the delivery and its endpoint — is a transition here, tested with plain values; the engine
/// only sends the request, then applies what ``handle(_:)`` returns.
///
/// ```
/// pending ──attempt 2xx──────────────▶ succeeded
///    │ ├──attempt failed, attempts left──▶ pending (next attempt after the schedule's delay)
///    │ └──attempt failed, none left / 410 / forbidden target / endpoint gone or disabled──▶ failed
///    └──circuit open──▶ pending (deferred until the breaker half-opens; no attempt spent)
/// failed ──replay──▶ pending (one more attempt allowed)
/// ```
///
/// A delivery is only ever claimed while `pending`; handling an attempt of one that is not traps, as an
/// impossible state does (the store's claim guarantees it), rather than quietly rewriting a finished delivery.
package struct WebhookDeliveryStateMachine: Sendable {
    /// What happened to a claimed delivery.
    package enum Event: Sendable, Hashable {
        /// The endpoint or the message no longer exists.
        case targetMissing(at: Date)
        /// The endpoint is disabled (by an operator, or by the engine).
        case endpointDisabled(reason: String?, at: Date)
        /// The endpoint's breaker refused the attempt; the delivery waits `retryAfter`.
        case circuitOpen(retryAfter: Duration, at: Date)
        /// An attempt was made.
        case attempted(AttemptResult, finishedAt: Date)
    }

    /// How one HTTP attempt ended.
    package enum AttemptResult: Sendable, Hashable {
        case succeeded(statusCode: Int)
        /// `410 Gone`: the receiver asks never to be called again.
        case gone
        /// The SSRF guard refused the target, or its URL is unusable: repeating cannot help.
        case forbiddenTarget(reason: String)
        /// Any other status, a transport error or a timeout.
        case failed(statusCode: Int?, error: String?)
    }

    /// What the engine must do beyond saving the delivery, and what it counts.
    package struct Effect: Sendable, Hashable {
        package var endpointChange: WebhookStore.EndpointChange
        package var outcome: Outcome
    }

    /// The delivery outcome the engine counts (`interchange_webhook_deliveries_total{outcome}`).
    package enum Outcome: String, Sendable, Hashable, CaseIterable {
        case succeeded
        case retryScheduled = "retry_scheduled"
        case deadLettered = "dead_lettered"
        case blocked
        case deferred
    }

    package private(set) var delivery: WebhookDelivery
    /// The delay before the attempt after attempt `n` (the schedule with jitter).
    private let delayAfterAttempt: @Sendable (Int) -> Duration
    private let disableAfter: Duration
    /// Whether the endpoint is in a run of failures, which a success ends (a write worth skipping otherwise).
    private let endpointIsFailing: Bool

    package init(
        delivery: WebhookDelivery,
        endpointIsFailing: Bool,
        disableAfter: Duration,
        delayAfterAttempt: @escaping @Sendable (Int) -> Duration
    ) {
        self.delivery = delivery
        self.endpointIsFailing = endpointIsFailing
        self.disableAfter = disableAfter
        self.delayAfterAttempt = delayAfterAttempt
    }

    /// Counts an attempt about to be made and returns its number. Call before sending.
    package mutating func beginAttempt() -> Int {
        precondition(delivery.status == .pending, "attempted a delivery that is \(delivery.status), not pending")
        delivery.attempts += 1
        return delivery.attempts
    }

    /// Applies `event` and returns what the engine must do.
    package mutating func handle(_ event: Event) -> Effect {
        precondition(delivery.status == .pending, "a \(delivery.status) delivery was claimed")
        switch event {
        case .targetMissing(let at):
            deadLetter(at: at, error: "the endpoint or message no longer exists")
            return Effect(endpointChange: .none, outcome: .deadLettered)
        case .endpointDisabled(let reason, let at):
            deadLetter(at: at, error: "endpoint disabled: \(reason ?? "by an operator")")
            return Effect(endpointChange: .none, outcome: .deadLettered)
        case .circuitOpen(let retryAfter, let at):
            delivery.nextAttemptAt = at.addingTimeInterval(retryAfter.inSeconds)
            delivery.lastError = "circuit open for this endpoint; next attempt when it half-opens"
            delivery.updatedAt = at
            return Effect(endpointChange: .none, outcome: .deferred)
        case .attempted(let result, let at):
            delivery.updatedAt = at
            switch result {
            case .succeeded(let statusCode):
                delivery.status = .succeeded
                delivery.nextAttemptAt = nil
                delivery.lastStatusCode = statusCode
                delivery.lastError = nil
                return Effect(endpointChange: endpointIsFailing ? .succeeded : .none, outcome: .succeeded)
            case .gone:
                delivery.lastStatusCode = 410
                deadLetter(at: at, error: "endpoint answered 410")
                return Effect(endpointChange: .disable(reason: "the endpoint answered 410 Gone", at: at), outcome: .deadLettered)
            case .forbiddenTarget(let reason):
                delivery.lastStatusCode = nil
                deadLetter(at: at, error: reason)
                return Effect(endpointChange: .none, outcome: .blocked)
            case .failed(let statusCode, let error):
                delivery.lastStatusCode = statusCode
                delivery.lastError = error ?? statusCode.map { "endpoint answered \($0)" }
                let change = WebhookStore.EndpointChange.failed(at: at, disableAfter: disableAfter)
                guard delivery.attempts < delivery.maxAttempts else {
                    delivery.status = .failed
                    delivery.nextAttemptAt = nil
                    return Effect(endpointChange: change, outcome: .deadLettered)
                }
                delivery.nextAttemptAt = at.addingTimeInterval(delayAfterAttempt(delivery.attempts).inSeconds)
                return Effect(endpointChange: change, outcome: .retryScheduled)
            }
        }
    }

    private mutating func deadLetter(at: Date, error: String) {
        delivery.status = .failed
        delivery.nextAttemptAt = nil
        delivery.lastError = error
        delivery.updatedAt = at
    }

    /// `failed → pending`: a replay allows one more attempt, due at once.
    /// Returns false (and changes nothing) for a delivery that is not dead-lettered. The store's bulk replay
    /// (`UPDATE … WHERE status = 'failed'`) applies exactly this rule in SQL.
    package static func replay(_ delivery: inout WebhookDelivery, at: Date) -> Bool {
        guard delivery.status == .failed else { return false }
        delivery.status = .pending
        delivery.maxAttempts = delivery.attempts + 1
        delivery.nextAttemptAt = at
        delivery.updatedAt = at
        return true
    }
}
