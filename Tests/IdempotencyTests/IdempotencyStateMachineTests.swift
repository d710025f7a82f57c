import Foundation
import Idempotency
import Testing

@Suite("IdempotencyKeyStateMachine", .timeLimit(.minutes(1)))
struct IdempotencyStateMachineTests {
    let t0 = Date(timeIntervalSince1970: 1_767_225_600)
    let retention = Duration.seconds(86_400)
    let lockTimeout = Duration.seconds(60)
    let created = StoredResponse(status: 201, headers: [.init(name: "Content-Type", value: "application/json")], body: Array("{}".utf8))

    func machine(_ state: IdempotencyKeyStateMachine.State) -> IdempotencyKeyStateMachine {
        IdempotencyKeyStateMachine(state: state, retention: retention, lockTimeout: lockTimeout)
    }

    @Test("an unused key executes and becomes started")
    func firstUse() {
        var machine = machine(.absent)
        #expect(machine.requestArrived(fingerprint: "f", executionID: "e1", at: t0) == .execute(.firstUse))
        #expect(machine.state == .started(fingerprint: "f", executionID: "e1", startedAt: t0))
    }

    @Test("a completed key with the same request replays the stored response")
    func replay() {
        var machine = machine(.completed(fingerprint: "f", executionID: "e1", startedAt: t0, response: created))
        #expect(machine.requestArrived(fingerprint: "f", executionID: "e2", at: t0.addingTimeInterval(5)) == .replay(created))
        #expect(machine.state == .completed(fingerprint: "f", executionID: "e1", startedAt: t0, response: created))
    }

    @Test("a different request with a used key is a mismatch, whether it is started or completed")
    func mismatch() {
        var completed = machine(.completed(fingerprint: "f", executionID: "e1", startedAt: t0, response: created))
        #expect(completed.requestArrived(fingerprint: "other", executionID: "e2", at: t0) == .rejectMismatch)
        var started = machine(.started(fingerprint: "f", executionID: "e1", startedAt: t0))
        #expect(started.requestArrived(fingerprint: "other", executionID: "e2", at: t0.addingTimeInterval(120)) == .rejectMismatch)
        #expect(started.state == .started(fingerprint: "f", executionID: "e1", startedAt: t0))
    }

    @Test("the same request while the first is running is refused with Retry-After 1 s")
    func inProgress() {
        var machine = machine(.started(fingerprint: "f", executionID: "e1", startedAt: t0))
        #expect(
            machine.requestArrived(fingerprint: "f", executionID: "e2", at: t0.addingTimeInterval(59.9)) == .rejectInProgress(retryAfter: .seconds(1))
        )
        #expect(machine.state == .started(fingerprint: "f", executionID: "e1", startedAt: t0))
    }

    @Test("a started key older than the lock timeout is abandoned and executes again")
    func abandoned() {
        var machine = machine(.started(fingerprint: "f", executionID: "e1", startedAt: t0))
        let later = t0.addingTimeInterval(60)
        #expect(machine.requestArrived(fingerprint: "f", executionID: "e2", at: later) == .execute(.abandoned(previousExecutionID: "e1")))
        #expect(machine.state == .started(fingerprint: "f", executionID: "e2", startedAt: later))
    }

    @Test("a key older than the retention is a new key, even for a different request")
    func expired() {
        let later = t0.addingTimeInterval(86_400)
        var completed = machine(.completed(fingerprint: "f", executionID: "e1", startedAt: t0, response: created))
        #expect(completed.requestArrived(fingerprint: "g", executionID: "e2", at: later) == .execute(.expired(previousExecutionID: "e1")))
        #expect(completed.state == .started(fingerprint: "g", executionID: "e2", startedAt: later))
        var justBefore = machine(.completed(fingerprint: "f", executionID: "e1", startedAt: t0, response: created))
        #expect(justBefore.requestArrived(fingerprint: "f", executionID: "e2", at: later.addingTimeInterval(-0.001)) == .replay(created))
    }

    @Test("a response below 500 is stored: 2xx and 4xx alike")
    func storesBelow500() {
        for status in [200, 201, 303, 400, 402, 404, 422] {
            var machine = machine(.started(fingerprint: "f", executionID: "e1", startedAt: t0))
            let response = StoredResponse(status: status, headers: [], body: [])
            #expect(machine.handlerFinished(.responded(response)) == .store(response), "status \(status)")
            #expect(machine.state == .completed(fingerprint: "f", executionID: "e1", startedAt: t0, response: response))
        }
    }

    @Test("a 5xx or a thrown error releases the key")
    func releasesOnFailure() {
        for outcome in [
            IdempotencyKeyStateMachine.HandlerOutcome.responded(.init(status: 500, headers: [], body: [])),
            .responded(.init(status: 503, headers: [], body: [])), .threw,
        ] {
            var machine = machine(.started(fingerprint: "f", executionID: "e1", startedAt: t0))
            #expect(machine.handlerFinished(outcome) == .release)
            #expect(machine.state == .absent)
        }
    }

    @Test("a record read from storage becomes the matching state")
    func fromRecord() {
        let started = IdempotencyRecord(scope: "s", key: "k", fingerprint: "f", executionID: "e1", startedAt: t0)
        #expect(
            IdempotencyKeyStateMachine(record: started, retention: retention, lockTimeout: lockTimeout).state
                == .started(fingerprint: "f", executionID: "e1", startedAt: t0)
        )
        var completed = started
        completed.response = created
        #expect(
            IdempotencyKeyStateMachine(record: completed, retention: retention, lockTimeout: lockTimeout).state
                == .completed(fingerprint: "f", executionID: "e1", startedAt: t0, response: created)
        )
        #expect(IdempotencyKeyStateMachine(record: nil, retention: retention, lockTimeout: lockTimeout).state == .absent)
    }
}
