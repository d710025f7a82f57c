import Foundation

/// One run of a ``SagaDefinition``, as a value with no I/O: the explicit state machine every saga rule lives in.
/// ``SagaOrchestrator`` and ``SagaTracker`` only load it, ``apply(_:at:)`` an input, save it, and carry out the
/// actions it returns.
///
/// ```
/// running ──every step succeeded──────────────────────────────▶ completed
///    │  a step failed, timed out maxAttempts times, or cancel
///    ▼
/// compensating ──every started step compensated (reverse order)──▶ compensated
///    └──a compensation timed out maxAttempts times──────────────▶ failed (the others are still compensated)
/// ```
///
/// ```swift
/// var (saga, actions) = SagaInstance.start(id: order.id, definition: placeOrder, at: now)
/// // actions == [.execute(step: "reserve-inventory", attempt: 1), .deadline(step: "reserve-inventory", attempt: 1, at: now + 10 s)]
/// actions = saga.apply(.succeeded(step: "reserve-inventory", messageID: event.id), at: now)
/// // actions == [.execute(step: "charge-payment", attempt: 1), .deadline(…)]
/// actions = saga.apply(.failed(step: "charge-payment", reason: "card declined", messageID: event2.id), at: now)
/// // actions == [.compensate(step: "reserve-inventory", attempt: 1), .deadline(…)]; saga.status == .compensating
/// ```
///
/// Rules:
/// - Steps run one at a time, in order. A reply counts only for the step awaited now (``currentStep``): a reply for
///   a step already passed — late, after the step timed out for good or after a cancel — changes nothing but is
///   logged (``SagaLogEntry/Kind/ignored``). A success of any attempt of the awaited step completes it (participants
///   are idempotent, so attempt 1's reply is as good as attempt 2's).
/// - A reply that comes **early** — for a step the saga has not started yet, or a compensation not begun yet (of a
///   step that succeeded, is in flight, or whose success is itself held) — is held (``SagaLogEntry/Kind/held``,
///   ``held``) and applied, in arrival order, when the saga gets there; held replies left when the saga ends are
///   dropped (logged as ignored). Participants that react to each other's events (choreography) are not ordered
///   with each other: `payment.processed` can overtake `inventory.reserved`. A timeout or a cancel is never held.
/// - A reply whose `messageID` was seen before is a no-op: the instance does not change at all.
/// - A step that answered `failed` did nothing, so it is not compensated; a step that timed out for good, or was in
///   flight when the saga was cancelled, may have acted, so it is compensated with the succeeded ones — all in
///   reverse order of starting, one at a time. Steps with `compensates: false` are skipped (logged).
/// - ``SagaInput/timedOut(step:attempt:)`` counts only for the deadline pending now (same step and attempt, and
///   `at` not before it): a scanner's stale or repeated firing is ignored.
/// - The terminal states (``Status/completed``, ``Status/compensated``, ``Status/failed``) absorb every input.
public struct SagaInstance: Sendable, Hashable, Codable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case running, compensating, completed, compensated, failed

        /// Completed, compensated or failed: no input changes the saga any more.
        public var isTerminal: Bool { self == .completed || self == .compensated || self == .failed }
    }

    /// Where one step is.
    public enum StepPhase: Sendable, Hashable, Codable {
        case pending
        /// Attempt `attempt` of the action was sent; its reply is awaited until the deadline.
        case executing(attempt: Int)
        /// Attempt `attempt - 1` timed out; attempt `attempt` is sent when the retry delay's deadline passes.
        case awaitingRetry(attempt: Int)
        case succeeded
        /// The participant answered that it could not: nothing to undo.
        case failed(reason: String)
        /// Given up without an answer (timed out for good, or in flight at a cancel): it may have acted, so it is
        /// compensated.
        case abandoned(reason: String)
        case compensating(attempt: Int)
        case awaitingCompensationRetry(attempt: Int)
        case compensated
        /// Every attempt of the compensation timed out: an operator must look.
        case compensationFailed(reason: String)
    }

    public struct StepState: Sendable, Hashable, Codable {
        public let step: SagaStep
        public internal(set) var phase: StepPhase
    }

    /// The time by which the awaited reply (or a retry delay) is due; the store indexes it for the scanner.
    public struct Deadline: Sendable, Hashable, Codable {
        public var step: String
        public var attempt: Int
        public var at: Date

        public init(step: String, attempt: Int, at: Date) {
            self.step = step
            self.attempt = attempt
            self.at = at
        }
    }

    public let id: String
    /// The definition's name.
    public let definition: String
    public internal(set) var status: Status
    /// Every step of the definition (a copy, so the instance replays without the code that defined it).
    public internal(set) var steps: [StepState]
    /// The reply or retry awaited, nil in the terminal states.
    public internal(set) var deadline: Deadline?
    /// Why the saga is compensating (or compensated, or failed): the failed step's reason, a timeout, a cancel.
    public internal(set) var reason: String?
    /// The timeline: every transition and every ignored input, in order.
    public internal(set) var log: [SagaLogEntry]
    /// Message ids of the replies applied (or ignored), so a repeated one is a no-op.
    var seenMessageIDs: Set<String>
    /// Step indices still to compensate, next first.
    var compensationQueue: [Int]
    /// Replies that came before the saga reached their step, oldest first (see the rules above).
    public internal(set) var held: [SagaInput]

    /// The step whose reply (or compensation reply) is awaited: nil when terminal.
    public var currentStep: String? {
        switch status {
        case .running: steps.first { $0.phase.isInFlight }?.step.name
        case .compensating: compensationQueue.first.map { steps[$0].step.name }
        case .completed, .compensated, .failed: nil
        }
    }

    /// The phase of step `name` (nil for a step the definition does not have).
    public func phase(of name: String) -> StepPhase? { steps.first { $0.step.name == name }?.phase }
}

extension SagaInstance {
    private enum CodingKeys: String, CodingKey {
        case id, definition, status, steps, deadline, reason, log, seenMessageIDs, compensationQueue, held
    }

    /// Decodes instances stored before ``held`` existed too (none held).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        definition = try container.decode(String.self, forKey: .definition)
        status = try container.decode(Status.self, forKey: .status)
        steps = try container.decode([StepState].self, forKey: .steps)
        deadline = try container.decodeIfPresent(Deadline.self, forKey: .deadline)
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
        log = try container.decode([SagaLogEntry].self, forKey: .log)
        seenMessageIDs = try container.decode(Set<String>.self, forKey: .seenMessageIDs)
        compensationQueue = try container.decode([Int].self, forKey: .compensationQueue)
        held = try container.decodeIfPresent([SagaInput].self, forKey: .held) ?? []
    }
}

extension SagaInstance.StepPhase {
    /// The action was sent and neither answered nor given up.
    var isInFlight: Bool {
        switch self {
        case .executing, .awaitingRetry: true
        default: false
        }
    }
}

/// An input to a saga: a participant's reply, a deadline that passed, or a cancel.
public enum SagaInput: Sendable, Hashable, Codable {
    /// The step's action succeeded. `messageID` identifies the reply (the event's id), for deduplication.
    case succeeded(step: String, messageID: String)
    /// The step's action could not be done (and did nothing).
    case failed(step: String, reason: String, messageID: String)
    /// The deadline set for `step`'s attempt `attempt` passed (fed by the deadline scanner).
    case timedOut(step: String, attempt: Int)
    /// The step's compensation was done.
    case compensated(step: String, messageID: String)
    /// Stop and undo what was done (a user's cancel).
    case cancel(reason: String)

    var messageID: String? {
        switch self {
        case .succeeded(_, let id), .failed(_, _, let id), .compensated(_, let id): id
        case .timedOut, .cancel: nil
        }
    }
}

/// What the caller of ``SagaInstance/apply(_:at:)`` must do.
public enum SagaAction: Sendable, Hashable {
    /// Perform (send the command of) attempt `attempt` of the step's action.
    case execute(step: String, attempt: Int)
    /// Perform attempt `attempt` of the step's compensation.
    case compensate(step: String, attempt: Int)
    /// Feed ``SagaInput/timedOut(step:attempt:)`` at `at` unless a reply came first (the instance's ``SagaInstance/deadline``).
    case deadline(step: String, attempt: Int, at: Date)
    /// Every step succeeded.
    case completed
    /// Every started step was compensated; `reason` is why the saga compensated.
    case compensated(reason: String)
    /// A compensation could not be done: the saga ended with something not undone (an operator must look).
    case failed(reason: String)
}

/// One line of a saga's timeline.
public struct SagaLogEntry: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case started
        /// A reply that came before its step (or compensation) began: kept, and applied when it does.
        case held
        case executing
        case succeeded
        case failed
        case timedOut = "timed_out"
        case retryScheduled = "retry_scheduled"
        case cancelled
        case compensating
        case compensated
        case compensationSkipped = "compensation_skipped"
        case compensationFailed = "compensation_failed"
        case completed
        case sagaCompensated = "saga_compensated"
        case sagaFailed = "saga_failed"
        /// An input that did not apply (a late or unexpected reply, a stale timeout, anything after the end).
        case ignored
    }

    /// The step it is about (nil for the saga as a whole).
    public var step: String?
    public var kind: Kind
    public var attempt: Int?
    public var at: Date
    public var detail: String?

    public init(step: String?, kind: Kind, attempt: Int? = nil, at: Date, detail: String? = nil) {
        self.step = step
        self.kind = kind
        self.attempt = attempt
        self.at = at
        self.detail = detail
    }
}
