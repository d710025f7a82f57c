import Foundation
import Resilience

/// What becomes of a batch of claimed deliveries once their handlers answered: which are deleted (acknowledged),
/// which come again later (retried), which move to the dead letters, and which are handed back untouched (the
/// consumer stopped before handling them). A value type without I/O; ``EmbeddedTransport`` writes it in one go.
struct DeliverySettlement: Sendable {
    struct Retry: Sendable, Equatable {
        var seq: Int64
        var attempt: Int
        var availableAt: Int64
        var error: String
    }

    struct Dead: Sendable, Equatable {
        var seq: Int64
        var attempt: Int
        var error: String
    }

    private(set) var acknowledged: [Int64] = []
    private(set) var retries: [Retry] = []
    private(set) var dead: [Dead] = []
    /// (seq, attempt) of deliveries never handed to the handler.
    private(set) var released: [(seq: Int64, attempt: Int)] = []

    let maxAttempts: Int
    let retryDelay: Backoff
    let jitter: JitterSource

    init(maxAttempts: Int, retryDelay: Backoff, jitter: JitterSource) {
        self.maxAttempts = maxAttempts
        self.retryDelay = retryDelay
        self.jitter = jitter
    }

    /// Longest stored error text.
    static let maxErrorLength = 2000

    /// Records the outcome of attempt `attempt` of the delivery of log row `seq`, at `now` (ms since 1970).
    mutating func record(_ outcome: DeliveryOutcome, seq: Int64, attempt: Int, now: Int64) {
        switch outcome {
        case .ack:
            acknowledged.append(seq)
        case .deadLetter(let reason):
            dead.append(Dead(seq: seq, attempt: attempt, error: String(reason.prefix(Self.maxErrorLength))))
        case .retry(let reason):
            let error = String(reason.prefix(Self.maxErrorLength))
            if attempt >= maxAttempts {
                dead.append(Dead(seq: seq, attempt: attempt, error: error))
            } else {
                // The previous delay is not stored; decorrelated jitter then starts again from the initial delay.
                let delay = retryDelay.delay(beforeRetry: attempt, previousDelay: .zero, jitterSource: jitter)
                retries.append(Retry(seq: seq, attempt: attempt, availableAt: now + delay.milliseconds, error: error))
            }
        }
    }

    /// Records that the delivery was never given to the handler (the consumer is stopping).
    mutating func release(seq: Int64, attempt: Int) {
        released.append((seq, attempt))
    }

    var isEmpty: Bool { acknowledged.isEmpty && retries.isEmpty && dead.isEmpty && released.isEmpty }
    var onlyAcknowledgements: Bool { retries.isEmpty && dead.isEmpty && released.isEmpty }
}
