import Foundation
import InterchangeCore
import Resilience

/// A saga: an ordered list of steps, each undone by its compensation when a later step fails.
///
/// ```swift
/// let placeOrder = SagaDefinition(name: "place-order") {
///     SagaStep("reserve-inventory", timeout: .seconds(10), maxAttempts: 3)      // compensated by release-inventory
///     SagaStep("charge-payment", timeout: .seconds(30), maxAttempts: 2)         // compensated by refund-payment
///     SagaStep("confirm", compensates: false)                                   // the last step: nothing to undo
/// }
/// ```
///
/// A definition says *what* the steps are and how patiently each is awaited; what a step's action and compensation
/// *do* is the executor's business (``SagaOrchestrator``): it turns ``SagaAction/execute(step:attempt:)`` and
/// ``SagaAction/compensate(step:attempt:)`` into commands. So a definition is plain data, stored with every instance
/// (an instance started under one version of a definition finishes under it, whatever is deployed later).
public struct SagaDefinition: Sendable, Hashable {
    public var name: String
    public var steps: [SagaStep]

    /// - Precondition: step names are unique and not empty (a definition is code, not input: a duplicate is a bug).
    public init(name: String, steps: [SagaStep]) {
        precondition(!name.isEmpty, "a saga definition needs a name")
        precondition(steps.allSatisfy { !$0.name.isEmpty }, "saga \(name): every step needs a name")
        precondition(Set(steps.map(\.name)).count == steps.count, "saga \(name): step names must be unique, got \(steps.map(\.name))")
        self.name = name
        self.steps = steps
    }

    /// The steps written one per line (``SagaStepsBuilder``).
    public init(name: String, @SagaStepsBuilder steps: () throws -> [SagaStep]) rethrows {
        self.init(name: name, steps: try steps())
    }

    /// The step called `name`.
    public func step(named name: String) -> SagaStep? { steps.first { $0.name == name } }
}

/// Lists a definition's steps one per line.
@resultBuilder
public enum SagaStepsBuilder {
    public static func buildExpression(_ step: SagaStep) -> [SagaStep] { [step] }
    public static func buildBlock(_ steps: [SagaStep]...) -> [SagaStep] { steps.flatMap { $0 } }
}

/// One step of a saga: an action (sent as a command, or awaited as an event), how long to wait for its reply, how
/// often to try, and whether it has a compensation.
///
/// A step that times out is tried again (the same action, `attempt + 1`) after ``retryDelay`` until ``maxAttempts``
/// attempts timed out; then it has failed — and, since its effect may still have happened (a late charge), it is
/// compensated with the steps before it. Compensations are retried the same way. Participants must therefore be
/// idempotent per saga: an action repeated, or one that arrives after its compensation, must not act twice.
public struct SagaStep: Sendable, Hashable {
    public var name: String
    /// How long to wait for the reply to one attempt (of the action, or of the compensation).
    public var timeout: Duration
    /// Attempts before the step (or its compensation) has failed; at least 1.
    public var maxAttempts: Int
    /// The wait between a timed-out attempt and the next. Jitter is drawn deterministically from the saga id, the
    /// step and the attempt, so the state machine stays a pure function.
    public var retryDelay: Backoff
    /// Has a compensation (``SagaAction/compensate(step:attempt:)`` is emitted when it must be undone).
    public var compensates: Bool

    /// - Precondition: `maxAttempts ≥ 1` and `timeout > 0`.
    public init(
        _ name: String,
        timeout: Duration = .seconds(30),
        maxAttempts: Int = 3,
        retryDelay: Backoff = .standard,
        compensates: Bool = true
    ) {
        precondition(maxAttempts >= 1, "saga step \(name): maxAttempts must be at least 1, got \(maxAttempts)")
        precondition(timeout > .zero, "saga step \(name): timeout must be positive, got \(timeout)")
        self.name = name
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.retryDelay = retryDelay
        self.compensates = compensates
    }

    /// The wait before attempt `attempt` (2 for the first retry) of this step in saga `sagaID`.
    func delay(beforeAttempt attempt: Int, sagaID: String, compensation: Bool) -> Duration {
        var previous = Duration.zero
        var delay = Duration.zero
        for retry in 1...max(1, attempt - 1) {
            let seed = "\(sagaID)|\(name)|\(compensation ? "c" : "a")|\(retry)"
            delay = retryDelay.delay(beforeRetry: retry, previousDelay: previous, jitterSource: .fixed(Self.unit(seed)))
            previous = delay
        }
        return delay
    }

    /// A stable number in `0..<1` from `text` (FNV-1a): the same jitter on every replay of a saga.
    private static func unit(_ text: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Double(hash >> 11) * 0x1.0p-53
    }
}

extension SagaStep: Codable {
    private enum CodingKeys: String, CodingKey {
        case name, timeoutMilliseconds, maxAttempts, retryDelay, compensates
    }

    /// `Backoff` as stored with an instance (Resilience does not make it Codable; the saga's copy is private here).
    private struct StoredBackoff: Codable {
        var initialMilliseconds: Int64
        var maxDelayMilliseconds: Int64
        /// `constant`, `linear` or `exponential`.
        var growth: String
        var multiplier: Double?
        /// `none`, `full`, `equal` or `decorrelated`.
        var jitter: String

        init(_ backoff: Backoff) {
            initialMilliseconds = backoff.initial.milliseconds
            maxDelayMilliseconds = backoff.maxDelay.milliseconds
            switch backoff.growth {
            case .constant: growth = "constant"
            case .linear: growth = "linear"
            case .exponential(let value):
                growth = "exponential"
                multiplier = value
            }
            switch backoff.jitter {
            case .none: jitter = "none"
            case .full: jitter = "full"
            case .equal: jitter = "equal"
            case .decorrelated: jitter = "decorrelated"
            }
        }

        func backoff(codingPath: [any CodingKey]) throws -> Backoff {
            let growth: Backoff.Growth
            switch self.growth {
            case "constant": growth = .constant
            case "linear": growth = .linear
            case "exponential": growth = .exponential(multiplier: multiplier ?? 2)
            default: throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "unknown backoff growth '\(self.growth)'"))
            }
            let jitter: Backoff.Jitter
            switch self.jitter {
            case "none": jitter = .none
            case "full": jitter = .full
            case "equal": jitter = .equal
            case "decorrelated": jitter = .decorrelated
            default: throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "unknown backoff jitter '\(self.jitter)'"))
            }
            return try Backoff(
                initial: .milliseconds(initialMilliseconds),
                maxDelay: .milliseconds(maxDelayMilliseconds),
                growth: growth,
                jitter: jitter
            )
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        timeout = .milliseconds(try container.decode(Int64.self, forKey: .timeoutMilliseconds))
        maxAttempts = try container.decode(Int.self, forKey: .maxAttempts)
        retryDelay = try container.decode(StoredBackoff.self, forKey: .retryDelay).backoff(codingPath: container.codingPath + [CodingKeys.retryDelay])
        compensates = try container.decode(Bool.self, forKey: .compensates)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(timeout.milliseconds, forKey: .timeoutMilliseconds)
        try container.encode(maxAttempts, forKey: .maxAttempts)
        try container.encode(StoredBackoff(retryDelay), forKey: .retryDelay)
        try container.encode(compensates, forKey: .compensates)
    }
}
