import Foundation
import Testing

@testable import WebhooksOutbound

/// The delivery lifecycle as a value: every rule of the engine checked without a database or a network.
@Suite("WebhookDeliveryStateMachine")
struct DeliveryStateMachineTests {
    typealias Machine = WebhookDeliveryStateMachine
    static let start = Date(timeIntervalSince1970: 1_700_000_000)

    func delivery(attempts: Int = 0, maxAttempts: Int = 3, status: WebhookDelivery.Status = .pending) -> WebhookDelivery {
        WebhookDelivery(
            id: "dlv_1",
            messageID: "msg_1",
            endpointID: "ep_1",
            eventType: "order.created",
            status: status,
            attempts: attempts,
            maxAttempts: maxAttempts,
            nextAttemptAt: Self.start,
            lastStatusCode: nil,
            lastError: nil,
            createdAt: Self.start,
            updatedAt: Self.start
        )
    }

    func machine(_ delivery: WebhookDelivery, failing: Bool = false) -> Machine {
        Machine(delivery: delivery, endpointIsFailing: failing, disableAfter: .seconds(3600)) { attempt in .seconds(10 * attempt) }
    }

    @Test("a 2xx succeeds the delivery and clears a failing endpoint's run of failures")
    func success() {
        var machine = machine(delivery(), failing: true)
        #expect(machine.beginAttempt() == 1)
        let effect = machine.handle(.attempted(.succeeded(statusCode: 204), finishedAt: Self.start))
        #expect(effect == Machine.Effect(endpointChange: .succeeded, outcome: .succeeded))
        #expect(machine.delivery.status == .succeeded)
        #expect(machine.delivery.nextAttemptAt == nil)
        #expect(machine.delivery.lastStatusCode == 204)
        #expect(machine.delivery.lastError == nil)
    }

    @Test("a success on a healthy endpoint writes nothing to the endpoint")
    func successOnHealthyEndpoint() {
        var machine = machine(delivery())
        _ = machine.beginAttempt()
        #expect(machine.handle(.attempted(.succeeded(statusCode: 200), finishedAt: Self.start)).endpointChange == .none)
    }

    @Test("a failure with attempts left stays pending, due after the schedule's delay for that attempt")
    func retryScheduled() {
        var machine = machine(delivery(attempts: 1))
        #expect(machine.beginAttempt() == 2)
        let finished = Self.start.addingTimeInterval(2)
        let effect = machine.handle(.attempted(.failed(statusCode: 500, error: nil), finishedAt: finished))
        #expect(effect == Machine.Effect(endpointChange: .failed(at: finished, disableAfter: .seconds(3600)), outcome: .retryScheduled))
        #expect(machine.delivery.status == .pending)
        #expect(machine.delivery.nextAttemptAt == finished.addingTimeInterval(20))
        #expect(machine.delivery.lastError == "endpoint answered 500")
    }

    @Test("the last failed attempt dead-letters the delivery")
    func deadLettered() {
        var machine = machine(delivery(attempts: 2, maxAttempts: 3))
        #expect(machine.beginAttempt() == 3)
        let effect = machine.handle(.attempted(.failed(statusCode: nil, error: "connection refused"), finishedAt: Self.start))
        #expect(effect.outcome == .deadLettered)
        #expect(machine.delivery.status == .failed)
        #expect(machine.delivery.nextAttemptAt == nil)
        #expect(machine.delivery.lastError == "connection refused")
    }

    @Test("410 Gone dead-letters at once and disables the endpoint")
    func gone() {
        var machine = machine(delivery())
        _ = machine.beginAttempt()
        let effect = machine.handle(.attempted(.gone, finishedAt: Self.start))
        #expect(effect.endpointChange == .disable(reason: "the endpoint answered 410 Gone", at: Self.start))
        #expect(machine.delivery.status == .failed)
        #expect(machine.delivery.lastStatusCode == 410)
    }

    @Test("a forbidden target is blocked, not retried, and does not count against the endpoint")
    func forbiddenTarget() {
        var machine = machine(delivery())
        _ = machine.beginAttempt()
        let effect = machine.handle(.attempted(.forbiddenTarget(reason: "resolves to 127.0.0.1"), finishedAt: Self.start))
        #expect(effect == Machine.Effect(endpointChange: .none, outcome: .blocked))
        #expect(machine.delivery.status == .failed)
        #expect(machine.delivery.lastError == "resolves to 127.0.0.1")
    }

    @Test("an open circuit defers the delivery without spending an attempt")
    func circuitOpenDefers() {
        var machine = machine(delivery(attempts: 1))
        let effect = machine.handle(.circuitOpen(retryAfter: .seconds(30), at: Self.start))
        #expect(effect == Machine.Effect(endpointChange: .none, outcome: .deferred))
        #expect(machine.delivery.status == .pending)
        #expect(machine.delivery.attempts == 1)
        #expect(machine.delivery.nextAttemptAt == Self.start.addingTimeInterval(30))
    }

    @Test("a disabled or vanished endpoint dead-letters the delivery, saying why")
    func endpointGoneOrDisabled() {
        var disabled = machine(delivery())
        #expect(disabled.handle(.endpointDisabled(reason: "410", at: Self.start)).outcome == .deadLettered)
        #expect(disabled.delivery.lastError == "endpoint disabled: 410")
        var missing = machine(delivery())
        #expect(missing.handle(.targetMissing(at: Self.start)).outcome == .deadLettered)
        #expect(missing.delivery.status == .failed)
        #expect(missing.delivery.attempts == 0)
    }

    @Test("replay takes only a dead-lettered delivery back to pending, with one more attempt")
    func replay() {
        var failed = delivery(attempts: 3, maxAttempts: 3, status: .failed)
        #expect(Machine.replay(&failed, at: Self.start))
        #expect(failed.status == .pending)
        #expect(failed.maxAttempts == 4)
        var succeeded = delivery(attempts: 1, status: .succeeded)
        #expect(!Machine.replay(&succeeded, at: Self.start))
        #expect(succeeded.status == .succeeded)
    }
}
