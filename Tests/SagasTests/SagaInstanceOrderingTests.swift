import Foundation
import Sagas
import Testing

/// Property-style: every ordering of a small set of replies (including a repeated one and a cancel), followed by the
/// deadlines firing until the saga ends, ends in a terminal state consistent with the definition; and every ordering
/// of the replies of one outcome (confirmed, declined, …) ends in exactly the same state, early replies held.
@Suite struct SagaInstanceOrderingTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let definition = SagaDefinition(name: "place-order") {
        SagaStep("reserve", timeout: .seconds(10), maxAttempts: 2, retryDelay: try! .constant(.seconds(1)))
        SagaStep("charge", timeout: .seconds(10), maxAttempts: 2, retryDelay: try! .constant(.zero))
        SagaStep("confirm", timeout: .seconds(10), maxAttempts: 1, compensates: false)
    }

    static let replies: [SagaInput] = [
        .succeeded(step: "reserve", messageID: "r"),
        .succeeded(step: "charge", messageID: "c"),
        .succeeded(step: "confirm", messageID: "f"),
        .succeeded(step: "reserve", messageID: "r"),  // the same reply delivered twice
        .compensated(step: "charge", messageID: "cc"),
        .compensated(step: "reserve", messageID: "rc"),
        .cancel(reason: "user"),
    ]

    static func permutations<T>(_ items: [T]) -> [[T]] {
        guard let first = items.first else { return [[]] }
        return permutations(Array(items.dropFirst())).flatMap { rest in
            (0...rest.count).map { index in
                var ordering = rest
                ordering.insert(first, at: index)
                return ordering
            }
        }
    }

    @Test func everyOrderingOfRepliesEndsInAConsistentTerminalState() {
        let orderings = Self.permutations(Self.replies)
        #expect(orderings.count == 5040)
        var endings: [SagaInstance.Status: Int] = [:]
        for ordering in orderings {
            var (saga, actions) = SagaInstance.start(id: "o", definition: Self.definition, at: Self.t0)
            var time = Self.t0
            for input in ordering {
                time = time.addingTimeInterval(1)
                actions += saga.apply(input, at: time)
            }
            // Let every pending deadline pass until the saga ends (bounded: a loop would be a bug).
            var firings = 0
            while !saga.status.isTerminal, let deadline = saga.deadline, firings < 50 {
                actions += saga.apply(.timedOut(step: deadline.step, attempt: deadline.attempt), at: deadline.at)
                firings += 1
            }
            endings[saga.status, default: 0] += 1
            check(saga, actions: actions, ordering: ordering)
        }
        // The set is rich enough to reach both ends (the failed end needs compensations that never answer).
        #expect(endings[.completed, default: 0] > 0)
        #expect(endings[.compensated, default: 0] > 0)
        #expect(endings[.failed, default: 0] > 0)
    }

    /// What a saga ended as, without the times: every ordering of one outcome's replies must end in the same one.
    struct Ending: Hashable, CustomStringConvertible {
        var status: SagaInstance.Status
        var phases: [SagaInstance.StepPhase]
        var reason: String?
        var held: [SagaInput]
        var hasDeadline: Bool
        /// The executes and compensations, in the order they were asked for.
        var work: [SagaAction]

        init(_ saga: SagaInstance, actions: [SagaAction]) {
            status = saga.status
            phases = saga.steps.map(\.phase)
            reason = saga.reason
            held = saga.held
            hasDeadline = saga.deadline != nil
            work = actions.filter {
                switch $0 {
                case .execute, .compensate: true
                default: false
                }
            }
        }

        var description: String { "\(status) \(phases) reason: \(reason ?? "-") held: \(held) work: \(work)" }
    }

    /// One run's replies, per participant in the order that participant sends them (inventory: `reserve` then its
    /// release; payments: `charge` then its refund; a third service: `confirm`), plus redelivered copies.
    struct Outcome: Sendable, CustomTestStringConvertible {
        var name: String
        var participants: [[SagaInput]]
        var redelivered: [SagaInput] = []
        var ending: SagaInstance.Status

        var testDescription: String { name }

        /// Every interleaving of the participants' replies (and the copies anywhere): participants are not ordered
        /// with each other — in choreography `payment.processed` can overtake `inventory.reserved`, a release can
        /// overtake the decline that caused it — but each one's own replies come in the order it sent them.
        var orderings: [[SagaInput]] {
            let all = participants.flatMap { $0 } + redelivered
            return SagaInstanceOrderingTests.permutations(all).filter { ordering in
                participants.allSatisfy { sent in
                    let positions = sent.map { reply in ordering.firstIndex { $0 == reply }! }
                    return positions == positions.sorted()
                }
            }
        }
    }

    static let outcomes: [Outcome] = [
        Outcome(
            name: "confirmed",
            participants: [
                [.succeeded(step: "reserve", messageID: "r")], [.succeeded(step: "charge", messageID: "c")],
                [.succeeded(step: "confirm", messageID: "f")],
            ],
            redelivered: [.succeeded(step: "charge", messageID: "c")],
            ending: .completed
        ),
        Outcome(
            name: "declined",
            participants: [
                [.succeeded(step: "reserve", messageID: "r"), .compensated(step: "reserve", messageID: "rc")],
                [.failed(step: "charge", reason: "declined", messageID: "d")],
            ],
            redelivered: [.succeeded(step: "reserve", messageID: "r")],
            ending: .compensated
        ),
        Outcome(
            name: "out of stock",
            participants: [[.failed(step: "reserve", reason: "short", messageID: "s")], [.succeeded(step: "confirm", messageID: "f")]],
            redelivered: [.failed(step: "reserve", reason: "short", messageID: "s")],
            ending: .compensated
        ),
        Outcome(
            name: "confirm refused after the charge",
            participants: [
                [.succeeded(step: "reserve", messageID: "r"), .compensated(step: "reserve", messageID: "rc")],
                [.succeeded(step: "charge", messageID: "c"), .compensated(step: "charge", messageID: "cc")],
                [.failed(step: "confirm", reason: "closed", messageID: "x")],
            ],
            ending: .compensated
        ),
    ]

    @Test(arguments: outcomes)
    func everyOrderingOfOneOutcomesRepliesEndsTheSame(_ outcome: Outcome) {
        let orderings = outcome.orderings
        #expect(orderings.count > 1)
        var endings: [Ending: [SagaInput]] = [:]
        for ordering in orderings {
            var (saga, actions) = SagaInstance.start(id: "o", definition: Self.definition, at: Self.t0)
            var time = Self.t0
            for input in ordering {
                time = time.addingTimeInterval(1)  // well before any deadline: nothing times out
                actions += saga.apply(input, at: time)
            }
            endings[Ending(saga, actions: actions), default: ordering] = ordering
            check(saga, actions: actions, ordering: ordering)
        }
        #expect(endings.count == 1, "\(endings.map { "\($0.key) after \($0.value)" })")
        #expect(endings.keys.first?.status == outcome.ending)
        // Nothing is left held: every early reply found its step (or was dropped, logged, at the end).
        #expect(endings.keys.allSatisfy { $0.held.isEmpty })
    }

    func check(_ saga: SagaInstance, actions: [SagaAction], ordering: [SagaInput]) {
        let comment = Comment(rawValue: "ordering: \(ordering)")
        #expect(saga.status.isTerminal, comment)
        #expect(saga.deadline == nil, comment)
        let executed = actions.compactMap { action -> String? in
            if case .execute(let step, 1) = action { return step }
            return nil
        }
        let compensated = actions.compactMap { action -> String? in
            if case .compensate(let step, 1) = action { return step }
            return nil
        }
        let names = Self.definition.steps.map(\.name)
        // Steps start in definition order, each once.
        #expect(executed == Array(names.prefix(executed.count)), comment)
        // Exactly one terminal action, last.
        let terminalActions = actions.filter {
            switch $0 {
            case .completed, .compensated, .failed: true
            default: false
            }
        }
        #expect(terminalActions.count == 1, comment)
        switch saga.status {
        case .completed:
            #expect(compensated.isEmpty, comment)
            #expect(saga.steps.allSatisfy { $0.phase == .succeeded }, comment)
            #expect(actions.last == .completed, comment)
        case .compensated, .failed:
            // Compensations: the started steps that have one, in reverse order of starting, each once.
            let startedAndUndoable = saga.steps.filter { state in
                guard state.step.compensates else { return false }
                switch state.phase {
                case .compensated, .compensationFailed: return true
                default: return false
                }
            }.map(\.step.name)
            #expect(compensated == Array(startedAndUndoable.reversed()), comment)
            #expect(Set(compensated).isSubset(of: Set(executed)), comment)
            #expect(compensated == compensated.sorted { names.firstIndex(of: $0)! > names.firstIndex(of: $1)! }, comment)
            // Nothing started and undoable is left neither compensated nor given up.
            for state in saga.steps where state.step.compensates {
                switch state.phase {
                case .succeeded, .abandoned, .executing, .awaitingRetry, .compensating, .awaitingCompensationRetry:
                    Issue.record("step \(state.step.name) left \(state.phase) in a \(saga.status) saga; \(comment)")
                default: break
                }
            }
            let failedCompensations = saga.steps.filter { if case .compensationFailed = $0.phase { true } else { false } }
            #expect((saga.status == .failed) == !failedCompensations.isEmpty, comment)
        default:
            Issue.record("not terminal: \(saga.status); \(comment)")
        }
    }
}
