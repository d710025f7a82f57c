import Foundation
import InterchangeCore

extension SagaInstance {
    /// A new instance of `definition`: its first step's attempt 1 is to be executed (an empty definition completes
    /// at once).
    public static func start(id: String, definition: SagaDefinition, at date: Date) -> (SagaInstance, [SagaAction]) {
        var instance = SagaInstance(
            id: id,
            definition: definition.name,
            status: .running,
            steps: definition.steps.map { StepState(step: $0, phase: .pending) },
            deadline: nil,
            reason: nil,
            log: [SagaLogEntry(step: nil, kind: .started, at: date, detail: definition.name)],
            seenMessageIDs: [],
            compensationQueue: [],
            held: []
        )
        let actions = instance.advance(from: 0, at: date)
        return (instance, actions)
    }

    /// Applies `input` at `date` and returns what to do next (empty when nothing: an ignored or repeated input).
    public mutating func apply(_ input: SagaInput, at date: Date) -> [SagaAction] {
        if let messageID = input.messageID {
            // A repeated reply is a no-op: not even logged, so the caller can tell nothing changed (instance ==).
            guard seenMessageIDs.insert(messageID).inserted else { return [] }
        }
        var actions = transition(input, at: date)
        actions += releaseHeld(at: date)
        return actions
    }

    /// Whether `input` is a reply for a step the saga has not reached yet, and will unless it ends first: a
    /// success or failure of a step not started while running, a compensation of a step not yet being compensated
    /// (its success may itself be held: a participant's refund comes after its own charge, but both can overtake
    /// another participant's reply).
    public func isEarly(_ input: SagaInput) -> Bool {
        switch input {
        case .succeeded(let step, _), .failed(let step, _, _):
            return status == .running && phase(of: step) == .pending
        case .compensated(let step, _):
            guard status == .running || status == .compensating else { return false }
            switch phase(of: step) {
            case .succeeded, .executing, .awaitingRetry, .abandoned: return true
            case .pending: return held.contains { if case .succeeded(step, _) = $0 { true } else { false } }
            default: return false
            }
        case .timedOut, .cancel:
            return false
        }
    }

    /// Applies the held replies the saga has now reached, oldest first, until none applies; drops them at the end.
    private mutating func releaseHeld(at date: Date) -> [SagaAction] {
        var actions: [SagaAction] = []
        while !status.isTerminal, let index = held.firstIndex(where: { !isEarly($0) }) {
            actions += transition(held.remove(at: index), at: date)
        }
        if status.isTerminal {
            for input in held { ignore(input, because: "held for a step the saga never reached before it ended", at: date) }
            held = []
        }
        return actions
    }

    /// One input, already deduplicated.
    private mutating func transition(_ input: SagaInput, at date: Date) -> [SagaAction] {
        if status.isTerminal {
            ignore(input, because: "the saga is \(status.rawValue)", at: date)
            return []
        }
        if isEarly(input) {
            held.append(input)
            log.append(SagaLogEntry(step: input.step, kind: .held, at: date, detail: "\(input.label): its step has not begun"))
            return []
        }
        switch input {
        case .succeeded(let step, _):
            guard status == .running, let index = inFlightIndex, steps[index].step.name == step else {
                ignore(input, because: notAwaited(step), at: date)
                return []
            }
            steps[index].phase = .succeeded
            deadline = nil
            log.append(SagaLogEntry(step: step, kind: .succeeded, at: date))
            return advance(from: index + 1, at: date)

        case .failed(let step, let reason, _):
            guard status == .running, let index = inFlightIndex, steps[index].step.name == step else {
                ignore(input, because: notAwaited(step), at: date)
                return []
            }
            steps[index].phase = .failed(reason: reason)
            log.append(SagaLogEntry(step: step, kind: .failed, at: date, detail: reason))
            return beginCompensation(reason: "\(step) failed: \(reason)", at: date)

        case .compensated(let step, _):
            guard status == .compensating, let index = compensationQueue.first, steps[index].step.name == step else {
                ignore(input, because: notAwaited(step), at: date)
                return []
            }
            steps[index].phase = .compensated
            compensationQueue.removeFirst()
            deadline = nil
            log.append(SagaLogEntry(step: step, kind: .compensated, at: date))
            return nextCompensation(at: date)

        case .timedOut(let step, let attempt):
            guard let deadline, deadline.step == step, deadline.attempt == attempt, date >= deadline.at else {
                ignore(input, because: "no deadline pending for \(step) attempt \(attempt) at this time", at: date)
                return []
            }
            return timeOut(step: step, attempt: attempt, at: date)

        case .cancel(let reason):
            guard status == .running, let index = inFlightIndex else {
                ignore(input, because: "the saga is already \(status.rawValue)", at: date)
                return []
            }
            steps[index].phase = .abandoned(reason: "in flight when the saga was cancelled")
            log.append(SagaLogEntry(step: nil, kind: .cancelled, at: date, detail: reason))
            return beginCompensation(reason: "cancelled: \(reason)", at: date)
        }
    }

    // MARK: Transitions

    /// The step being executed or waiting to retry (at most one: steps run one at a time).
    private var inFlightIndex: Int? { steps.firstIndex { $0.phase.isInFlight } }

    private func notAwaited(_ step: String) -> String {
        guard steps.contains(where: { $0.step.name == step }) else { return "the saga has no step \(step)" }
        return "\(step) is not the step awaited (\(currentStep ?? "none"), the saga is \(status.rawValue))"
    }

    private mutating func ignore(_ input: SagaInput, because reason: String, at date: Date) {
        log.append(SagaLogEntry(step: input.step, kind: .ignored, attempt: input.attempt, at: date, detail: "\(input.label): \(reason)"))
    }

    /// Executes step `index`, or completes the saga when there is none.
    private mutating func advance(from index: Int, at date: Date) -> [SagaAction] {
        guard index < steps.count else {
            status = .completed
            deadline = nil
            log.append(SagaLogEntry(step: nil, kind: .completed, at: date))
            return [.completed]
        }
        return execute(index, attempt: 1, at: date)
    }

    private mutating func execute(_ index: Int, attempt: Int, at date: Date) -> [SagaAction] {
        let step = steps[index].step
        steps[index].phase = .executing(attempt: attempt)
        let due = date.adding(step.timeout)
        deadline = Deadline(step: step.name, attempt: attempt, at: due)
        log.append(SagaLogEntry(step: step.name, kind: .executing, attempt: attempt, at: date))
        return [.execute(step: step.name, attempt: attempt), .deadline(step: step.name, attempt: attempt, at: due)]
    }

    private mutating func compensate(_ index: Int, attempt: Int, at date: Date) -> [SagaAction] {
        let step = steps[index].step
        steps[index].phase = .compensating(attempt: attempt)
        let due = date.adding(step.timeout)
        deadline = Deadline(step: step.name, attempt: attempt, at: due)
        log.append(SagaLogEntry(step: step.name, kind: .compensating, attempt: attempt, at: date))
        return [.compensate(step: step.name, attempt: attempt), .deadline(step: step.name, attempt: attempt, at: due)]
    }

    /// The pending deadline (step, attempt) passed.
    private mutating func timeOut(step name: String, attempt: Int, at date: Date) -> [SagaAction] {
        guard let index = steps.firstIndex(where: { $0.step.name == name }) else {
            preconditionFailure("saga \(id): a deadline for \(name), a step the saga does not have")
        }
        let step = steps[index].step
        deadline = nil
        switch steps[index].phase {
        case .executing(let current):
            log.append(SagaLogEntry(step: name, kind: .timedOut, attempt: current, at: date))
            guard current < step.maxAttempts else {
                steps[index].phase = .abandoned(reason: "timed out \(current) times")
                return beginCompensation(reason: "\(name) timed out after \(current) attempts", at: date)
            }
            let delay = step.delay(beforeAttempt: current + 1, sagaID: id, compensation: false)
            guard delay > .zero else { return execute(index, attempt: current + 1, at: date) }
            steps[index].phase = .awaitingRetry(attempt: current + 1)
            return scheduleRetry(name, attempt: current + 1, at: date.adding(delay), now: date)
        case .awaitingRetry(let next):
            return execute(index, attempt: next, at: date)
        case .compensating(let current):
            log.append(SagaLogEntry(step: name, kind: .timedOut, attempt: current, at: date, detail: "compensation"))
            guard current < step.maxAttempts else {
                steps[index].phase = .compensationFailed(reason: "compensation timed out \(current) times")
                compensationQueue.removeFirst()
                log.append(SagaLogEntry(step: name, kind: .compensationFailed, attempt: current, at: date))
                return nextCompensation(at: date)
            }
            let delay = step.delay(beforeAttempt: current + 1, sagaID: id, compensation: true)
            guard delay > .zero else { return compensate(index, attempt: current + 1, at: date) }
            steps[index].phase = .awaitingCompensationRetry(attempt: current + 1)
            return scheduleRetry(name, attempt: current + 1, at: date.adding(delay), now: date)
        case .awaitingCompensationRetry(let next):
            return compensate(index, attempt: next, at: date)
        case .pending, .succeeded, .failed, .abandoned, .compensated, .compensationFailed:
            preconditionFailure("saga \(id): a deadline pending for \(name), which is \(steps[index].phase)")
        }
    }

    private mutating func scheduleRetry(_ name: String, attempt: Int, at due: Date, now date: Date) -> [SagaAction] {
        deadline = Deadline(step: name, attempt: attempt, at: due)
        log.append(SagaLogEntry(step: name, kind: .retryScheduled, attempt: attempt, at: date, detail: "in \(due.timeIntervalSince(date)) s"))
        return [.deadline(step: name, attempt: attempt, at: due)]
    }

    /// Turns to compensating: every succeeded or abandoned step, latest first.
    private mutating func beginCompensation(reason: String, at date: Date) -> [SagaAction] {
        status = .compensating
        self.reason = reason
        deadline = nil
        compensationQueue = []
        for index in steps.indices.reversed() {
            switch steps[index].phase {
            case .succeeded, .abandoned:
                if steps[index].step.compensates {
                    compensationQueue.append(index)
                } else {
                    log.append(SagaLogEntry(step: steps[index].step.name, kind: .compensationSkipped, at: date, detail: "no compensation"))
                }
            default:
                break
            }
        }
        return nextCompensation(at: date)
    }

    private mutating func nextCompensation(at date: Date) -> [SagaAction] {
        if let index = compensationQueue.first { return compensate(index, attempt: 1, at: date) }
        deadline = nil
        let notUndone = steps.compactMap { state -> String? in
            if case .compensationFailed = state.phase { return state.step.name }
            return nil
        }
        let cause = reason ?? "compensated"
        guard notUndone.isEmpty else {
            status = .failed
            let detail = "not compensated: \(notUndone.joined(separator: ", ")) (cause: \(cause))"
            log.append(SagaLogEntry(step: nil, kind: .sagaFailed, at: date, detail: detail))
            return [.failed(reason: detail)]
        }
        status = .compensated
        log.append(SagaLogEntry(step: nil, kind: .sagaCompensated, at: date, detail: cause))
        return [.compensated(reason: cause)]
    }
}

extension SagaInput {
    var step: String? {
        switch self {
        case .succeeded(let step, _), .failed(let step, _, _), .timedOut(let step, _), .compensated(let step, _): step
        case .cancel: nil
        }
    }

    var attempt: Int? {
        if case .timedOut(_, let attempt) = self { return attempt }
        return nil
    }

    /// How the timeline names the input.
    var label: String {
        switch self {
        case .succeeded: "succeeded"
        case .failed(_, let reason, _): "failed (\(reason))"
        case .timedOut: "timed out"
        case .compensated: "compensated"
        case .cancel(let reason): "cancel (\(reason))"
        }
    }
}

extension Date {
    func adding(_ duration: Duration) -> Date { addingTimeInterval(duration.inSeconds) }
}
