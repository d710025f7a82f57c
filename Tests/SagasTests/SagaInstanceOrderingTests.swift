import Foundation
import Sagas
import Testing

/// Property-style: every ordering of a small set of replies (including a repeated one and a cancel), followed by the
/// deadlines firing until the saga ends, ends in a terminal state consistent with the definition.
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
