import Foundation
import Resilience
import Sagas
import Testing

/// The saga state machine alone: plain values, no I/O, no clock.
@Suite struct SagaInstanceTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// reserve (retried at once) → charge (retried after 5 s) → confirm (nothing to undo, one attempt).
    static let definition = SagaDefinition(name: "place-order") {
        SagaStep("reserve", timeout: .seconds(10), maxAttempts: 3, retryDelay: try! .constant(.zero))
        SagaStep("charge", timeout: .seconds(30), maxAttempts: 2, retryDelay: try! .constant(.seconds(5)))
        SagaStep("confirm", timeout: .seconds(5), maxAttempts: 1, compensates: false)
    }

    func started() -> SagaInstance { SagaInstance.start(id: "order-1", definition: Self.definition, at: Self.t0).0 }

    func at(_ seconds: Double) -> Date { Self.t0.addingTimeInterval(seconds) }

    @Test func startingExecutesTheFirstStepWithADeadline() {
        let (saga, actions) = SagaInstance.start(id: "order-1", definition: Self.definition, at: Self.t0)
        #expect(actions == [.execute(step: "reserve", attempt: 1), .deadline(step: "reserve", attempt: 1, at: at(10))])
        #expect(saga.status == .running)
        #expect(saga.currentStep == "reserve")
        #expect(saga.deadline == SagaInstance.Deadline(step: "reserve", attempt: 1, at: at(10)))
    }

    @Test func anEmptyDefinitionCompletesAtOnce() {
        let (saga, actions) = SagaInstance.start(id: "x", definition: SagaDefinition(name: "empty", steps: []), at: Self.t0)
        #expect(actions == [.completed])
        #expect(saga.status == .completed)
    }

    @Test func theHappyPathExecutesEveryStepInOrderThenCompletes() {
        var saga = started()
        #expect(
            saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(1)) == [
                .execute(step: "charge", attempt: 1), .deadline(step: "charge", attempt: 1, at: at(31)),
            ]
        )
        #expect(
            saga.apply(.succeeded(step: "charge", messageID: "m2"), at: at(2)) == [
                .execute(step: "confirm", attempt: 1), .deadline(step: "confirm", attempt: 1, at: at(7)),
            ]
        )
        #expect(saga.apply(.succeeded(step: "confirm", messageID: "m3"), at: at(3)) == [.completed])
        #expect(saga.status == .completed)
        #expect(saga.deadline == nil)
        #expect(saga.steps.allSatisfy { $0.phase == .succeeded })
        #expect(saga.log.map(\.kind) == [.started, .executing, .succeeded, .executing, .succeeded, .executing, .succeeded, .completed])
    }

    @Test func aFailedFirstStepHasNothingToCompensate() {
        var saga = started()
        #expect(
            saga.apply(.failed(step: "reserve", reason: "out of stock", messageID: "m1"), at: at(1)) == [
                .compensated(reason: "reserve failed: out of stock")
            ]
        )
        #expect(saga.status == .compensated)
        #expect(saga.phase(of: "reserve") == .failed(reason: "out of stock"))
        #expect(saga.deadline == nil)
    }

    @Test func aFailedSecondStepCompensatesTheFirst() {
        var saga = started()
        _ = saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(1))
        #expect(
            saga.apply(.failed(step: "charge", reason: "declined", messageID: "m2"), at: at(2)) == [
                .compensate(step: "reserve", attempt: 1), .deadline(step: "reserve", attempt: 1, at: at(12)),
            ]
        )
        #expect(saga.status == .compensating)
        #expect(saga.phase(of: "charge") == .failed(reason: "declined"))
        #expect(saga.apply(.compensated(step: "reserve", messageID: "m3"), at: at(3)) == [.compensated(reason: "charge failed: declined")])
        #expect(saga.status == .compensated)
        #expect(saga.reason == "charge failed: declined")
    }

    @Test func aFailedLastStepCompensatesTheOthersInReverseOrder() {
        var saga = started()
        _ = saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(1))
        _ = saga.apply(.succeeded(step: "charge", messageID: "m2"), at: at(2))
        #expect(
            saga.apply(.failed(step: "confirm", reason: "closed", messageID: "m3"), at: at(3)) == [
                .compensate(step: "charge", attempt: 1), .deadline(step: "charge", attempt: 1, at: at(33)),
            ]
        )
        #expect(
            saga.apply(.compensated(step: "charge", messageID: "m4"), at: at(4)) == [
                .compensate(step: "reserve", attempt: 1), .deadline(step: "reserve", attempt: 1, at: at(14)),
            ]
        )
        #expect(saga.apply(.compensated(step: "reserve", messageID: "m5"), at: at(5)) == [.compensated(reason: "confirm failed: closed")])
        #expect(saga.phase(of: "charge") == .compensated)
        #expect(saga.phase(of: "reserve") == .compensated)
    }

    @Test func aStepWithoutCompensationIsSkippedAndLogged() {
        let definition = SagaDefinition(name: "d") {
            SagaStep("notify", compensates: false)
            SagaStep("charge")
        }
        var (saga, _) = SagaInstance.start(id: "x", definition: definition, at: Self.t0)
        _ = saga.apply(.succeeded(step: "notify", messageID: "m1"), at: at(1))
        #expect(saga.apply(.failed(step: "charge", reason: "no", messageID: "m2"), at: at(2)) == [.compensated(reason: "charge failed: no")])
        #expect(saga.log.contains { $0.kind == .compensationSkipped && $0.step == "notify" })
    }

    @Test func aTimedOutStepIsRetriedAtOnceWhenItsRetryDelayIsZero() {
        var saga = started()
        #expect(
            saga.apply(.timedOut(step: "reserve", attempt: 1), at: at(10)) == [
                .execute(step: "reserve", attempt: 2), .deadline(step: "reserve", attempt: 2, at: at(20)),
            ]
        )
        #expect(saga.phase(of: "reserve") == .executing(attempt: 2))
    }

    @Test func timeoutRetriesAfterTheDelayThenFailsAndCompensatesTheTimedOutStepToo() {
        var saga = started()
        _ = saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(0))
        // charge attempt 1 times out at 30 s: wait the retry delay (5 s), then attempt 2.
        #expect(saga.apply(.timedOut(step: "charge", attempt: 1), at: at(30)) == [.deadline(step: "charge", attempt: 2, at: at(35))])
        #expect(saga.phase(of: "charge") == .awaitingRetry(attempt: 2))
        #expect(
            saga.apply(.timedOut(step: "charge", attempt: 2), at: at(35)) == [
                .execute(step: "charge", attempt: 2), .deadline(step: "charge", attempt: 2, at: at(65)),
            ]
        )
        // attempt 2 (maxAttempts) times out: the charge may have happened, so it is refunded, then the reservation released.
        #expect(
            saga.apply(.timedOut(step: "charge", attempt: 2), at: at(65)) == [
                .compensate(step: "charge", attempt: 1), .deadline(step: "charge", attempt: 1, at: at(95)),
            ]
        )
        #expect(saga.status == .compensating)
        #expect(saga.reason == "charge timed out after 2 attempts")
        #expect(
            saga.apply(.compensated(step: "charge", messageID: "m2"), at: at(66)) == [
                .compensate(step: "reserve", attempt: 1), .deadline(step: "reserve", attempt: 1, at: at(76)),
            ]
        )
        #expect(
            saga.apply(.compensated(step: "reserve", messageID: "m3"), at: at(67)) == [
                .compensated(reason: "charge timed out after 2 attempts")
            ]
        )
    }

    @Test func aReplyToAnEarlierAttemptCompletesAStepBeingRetried() {
        var saga = started()
        _ = saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(0))
        _ = saga.apply(.timedOut(step: "charge", attempt: 1), at: at(30))
        #expect(
            saga.apply(.succeeded(step: "charge", messageID: "m2"), at: at(31)) == [
                .execute(step: "confirm", attempt: 1), .deadline(step: "confirm", attempt: 1, at: at(36)),
            ]
        )
    }

    @Test func aLateReplyAfterTheStepTimedOutForGoodIsIgnoredButLogged() {
        var saga = started()
        for attempt in 1...3 { _ = saga.apply(.timedOut(step: "reserve", attempt: attempt), at: at(Double(10 * attempt))) }
        #expect(saga.status == .compensating)
        let before = saga
        #expect(saga.apply(.succeeded(step: "reserve", messageID: "late"), at: at(31)) == [])
        #expect(saga.status == .compensating)
        #expect(saga.steps == before.steps)
        #expect(saga.deadline == before.deadline)
        let last = saga.log.last
        #expect(last?.kind == .ignored)
        #expect(last?.step == "reserve")
        #expect(last?.detail?.contains("not the step awaited") == true)
    }

    @Test func anEarlyReplyIsHeldUntilItsStepBeginsAndDroppedIfTheSagaEndsFirst() {
        var saga = started()
        // charge's answer before reserve's: kept, nothing else changes.
        #expect(saga.apply(.succeeded(step: "charge", messageID: "c"), at: at(1)) == [])
        #expect(saga.phase(of: "charge") == .pending)
        #expect(saga.held == [.succeeded(step: "charge", messageID: "c")])
        #expect(saga.log.last?.kind == .held)
        // reserve succeeds: charge begins and its held answer completes it at once.
        let actions = saga.apply(.succeeded(step: "reserve", messageID: "r"), at: at(2))
        #expect(actions.first == .execute(step: "charge", attempt: 1))
        #expect(actions.contains(.execute(step: "confirm", attempt: 1)))
        #expect(saga.phase(of: "charge") == .succeeded)
        #expect(saga.held.isEmpty)
        // The same reply again is still a duplicate: held counts as seen.
        let before = saga
        #expect(saga.apply(.succeeded(step: "charge", messageID: "c"), at: at(3)) == [])
        #expect(saga == before)

        // A release that comes before the failure that causes it: held, then applied when compensating begins.
        var other = started()
        _ = other.apply(.succeeded(step: "reserve", messageID: "r"), at: at(1))
        #expect(other.apply(.compensated(step: "reserve", messageID: "rel"), at: at(2)) == [])
        #expect(other.held.count == 1)
        let compensation = other.apply(.failed(step: "charge", reason: "declined", messageID: "f"), at: at(3))
        #expect(compensation.first == .compensate(step: "reserve", attempt: 1))
        #expect(compensation.last == .compensated(reason: "charge failed: declined"))
        #expect(other.status == .compensated)

        // Held for a step never reached: dropped, logged, when the saga ends.
        var third = started()
        _ = third.apply(.succeeded(step: "confirm", messageID: "early"), at: at(1))
        _ = third.apply(.failed(step: "reserve", reason: "short", messageID: "f"), at: at(2))
        #expect(third.status == .compensated)
        #expect(third.held.isEmpty)
        #expect(third.log.last?.kind == .ignored)
        #expect(third.log.last?.detail?.contains("never reached") == true)
    }

    @Test func anInstanceStoredBeforeHeldRepliesExistedStillDecodes() throws {
        let saga = started()
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(saga)) as? [String: Any])
        object.removeValue(forKey: "held")
        let decoded = try JSONDecoder().decode(SagaInstance.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(decoded == saga)
    }

    @Test func aDuplicateReplyIsANoOp() {
        var saga = started()
        _ = saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(1))
        let before = saga
        #expect(saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(2)) == [])
        #expect(saga == before)
        // The same message id under another input is the same message: also nothing.
        #expect(saga.apply(.failed(step: "charge", reason: "x", messageID: "m1"), at: at(3)) == [])
        #expect(saga == before)
    }

    @Test func aStaleOrRepeatedTimeoutIsIgnored() {
        var saga = started()
        #expect(saga.apply(.timedOut(step: "reserve", attempt: 1), at: at(9)) == [])  // before the deadline
        #expect(saga.apply(.timedOut(step: "reserve", attempt: 2), at: at(10)) == [])  // another attempt
        #expect(saga.apply(.timedOut(step: "charge", attempt: 1), at: at(10)) == [])  // another step
        #expect(saga.phase(of: "reserve") == .executing(attempt: 1))
        _ = saga.apply(.timedOut(step: "reserve", attempt: 1), at: at(10))
        #expect(saga.apply(.timedOut(step: "reserve", attempt: 1), at: at(11)) == [])  // fired twice
        #expect(saga.phase(of: "reserve") == .executing(attempt: 2))
        #expect(saga.log.filter { $0.kind == .ignored }.count == 4)
    }

    @Test func cancelMidSagaCompensatesTheStepInFlightAndTheOnesBefore() {
        var saga = started()
        _ = saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(1))
        #expect(
            saga.apply(.cancel(reason: "customer asked"), at: at(2)) == [
                .compensate(step: "charge", attempt: 1), .deadline(step: "charge", attempt: 1, at: at(32)),
            ]
        )
        // The charge was in flight (it may still happen): it is refunded first.
        #expect(saga.phase(of: "charge") == .compensating(attempt: 1))
        #expect(saga.log.contains { $0.kind == .cancelled && $0.detail == "customer asked" })
        // The charge's answer arrives after the cancel: ignored (the refund is already on its way).
        #expect(saga.apply(.succeeded(step: "charge", messageID: "m2"), at: at(3)) == [])
        // A second cancel while compensating changes nothing.
        #expect(saga.apply(.cancel(reason: "again"), at: at(4)) == [])
        _ = saga.apply(.compensated(step: "charge", messageID: "m3"), at: at(5))
        #expect(saga.apply(.compensated(step: "reserve", messageID: "m4"), at: at(6)) == [.compensated(reason: "cancelled: customer asked")])
    }

    @Test func compensationsAreRetriedAfterATimeout() {
        var saga = started()
        _ = saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(0))
        _ = saga.apply(.failed(step: "charge", reason: "declined", messageID: "m2"), at: at(0))
        #expect(
            saga.apply(.timedOut(step: "reserve", attempt: 1), at: at(10)) == [
                .compensate(step: "reserve", attempt: 2), .deadline(step: "reserve", attempt: 2, at: at(20)),
            ]
        )
        #expect(saga.phase(of: "reserve") == .compensating(attempt: 2))
        #expect(saga.apply(.compensated(step: "reserve", messageID: "m3"), at: at(11)) == [.compensated(reason: "charge failed: declined")])
    }

    @Test func aCompensationRetriedAfterItsDelay() {
        var saga = started()
        _ = saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(0))
        _ = saga.apply(.succeeded(step: "charge", messageID: "m2"), at: at(0))
        _ = saga.apply(.failed(step: "confirm", reason: "no", messageID: "m3"), at: at(0))
        #expect(saga.apply(.timedOut(step: "charge", attempt: 1), at: at(30)) == [.deadline(step: "charge", attempt: 2, at: at(35))])
        #expect(saga.phase(of: "charge") == .awaitingCompensationRetry(attempt: 2))
        #expect(
            saga.apply(.timedOut(step: "charge", attempt: 2), at: at(35)) == [
                .compensate(step: "charge", attempt: 2), .deadline(step: "charge", attempt: 2, at: at(65)),
            ]
        )
    }

    @Test func aCompensationThatNeverAnswersFailsTheSagaAfterTheOthersAreCompensated() {
        var saga = started()
        _ = saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(0))
        _ = saga.apply(.succeeded(step: "charge", messageID: "m2"), at: at(0))
        _ = saga.apply(.failed(step: "confirm", reason: "no", messageID: "m3"), at: at(0))
        _ = saga.apply(.timedOut(step: "charge", attempt: 1), at: at(30))
        _ = saga.apply(.timedOut(step: "charge", attempt: 2), at: at(35))
        // The refund's second attempt times out too: give up on it, still release the reservation.
        #expect(
            saga.apply(.timedOut(step: "charge", attempt: 2), at: at(65)) == [
                .compensate(step: "reserve", attempt: 1), .deadline(step: "reserve", attempt: 1, at: at(75)),
            ]
        )
        #expect(saga.phase(of: "charge") == .compensationFailed(reason: "compensation timed out 2 times"))
        #expect(
            saga.apply(.compensated(step: "reserve", messageID: "m4"), at: at(66)) == [
                .failed(reason: "not compensated: charge (cause: confirm failed: no)")
            ]
        )
        #expect(saga.status == .failed)
        #expect(saga.deadline == nil)
    }

    /// Every input, in each terminal state: nothing happens but a log line (and a repeated message id, not even that).
    @Test(arguments: [SagaInstance.Status.completed, .compensated, .failed])
    func terminalStatesAbsorbEveryInput(_ terminal: SagaInstance.Status) {
        var saga = started()
        switch terminal {
        case .completed:
            for (index, step) in ["reserve", "charge", "confirm"].enumerated() {
                _ = saga.apply(.succeeded(step: step, messageID: "s\(index)"), at: at(0))
            }
        case .compensated:
            _ = saga.apply(.failed(step: "reserve", reason: "no", messageID: "s0"), at: at(0))
        default:
            for attempt in 1...3 { _ = saga.apply(.timedOut(step: "reserve", attempt: attempt), at: at(Double(10 * attempt))) }
            for attempt in 1...3 { _ = saga.apply(.timedOut(step: "reserve", attempt: attempt), at: at(Double(30 + 10 * attempt))) }
        }
        #expect(saga.status == terminal)
        let inputs: [SagaInput] = [
            .succeeded(step: "reserve", messageID: "a"), .succeeded(step: "charge", messageID: "b"),
            .failed(step: "confirm", reason: "x", messageID: "c"), .compensated(step: "reserve", messageID: "d"),
            .timedOut(step: "reserve", attempt: 1), .timedOut(step: "charge", attempt: 3), .cancel(reason: "late"),
            .succeeded(step: "nonexistent", messageID: "e"),
        ]
        let steps = saga.steps
        for (offset, input) in inputs.enumerated() {
            #expect(saga.apply(input, at: at(1000 + Double(offset))) == [])
            #expect(saga.status == terminal)
            #expect(saga.steps == steps)
            #expect(saga.deadline == nil)
            #expect(saga.log.last?.kind == .ignored)
        }
    }

    @Test func anInstanceRoundTripsThroughJSON() throws {
        var saga = started()
        _ = saga.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(1))
        _ = saga.apply(.timedOut(step: "charge", attempt: 1), at: at(31))
        let decoded = try JSONDecoder().decode(SagaInstance.self, from: try JSONEncoder().encode(saga))
        #expect(decoded == saga)
        var a = saga
        var b = decoded
        #expect(
            a.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(40)) == b.apply(.succeeded(step: "reserve", messageID: "m1"), at: at(40))
        )
        #expect(a.apply(.timedOut(step: "charge", attempt: 2), at: at(36)) == b.apply(.timedOut(step: "charge", attempt: 2), at: at(36)))
        #expect(a == b)
    }

    @Test func jitteredRetryDelaysAreTheSameOnEveryReplay() throws {
        let definition = try SagaDefinition(name: "j") {
            SagaStep(
                "a",
                timeout: .seconds(1),
                maxAttempts: 5,
                retryDelay: try .exponential(initial: .seconds(1), maxDelay: .seconds(60), jitter: .full)
            )
        }
        func deadlines() -> [SagaAction] {
            var (saga, _) = SagaInstance.start(id: "same", definition: definition, at: Self.t0)
            var actions: [SagaAction] = []
            while let deadline = saga.deadline, saga.status == .running {
                actions += saga.apply(.timedOut(step: deadline.step, attempt: deadline.attempt), at: deadline.at)
            }
            return actions
        }
        let first = deadlines()
        #expect(first == deadlines())
        #expect(first.filter { if case .execute = $0 { true } else { false } }.count == 4)
    }
}
