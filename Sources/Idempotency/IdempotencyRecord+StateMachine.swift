import Foundation

/// The life of one idempotency key, as a value with no I/O: every rule of ``IdempotencyMiddleware`` — which
/// request executes, which is replayed, which is refused — is a transition here, tested with plain values; the
/// middleware only reads the stored record, applies what the machine says, and writes the result back.
///
/// ```
/// absent ──request──────────────────────────────▶ started (execute)
/// started ──same request, within the lock timeout──▶ started (409, Retry-After: 1)
/// started ──same request, lock timeout passed──────▶ started again (execute: the first run is presumed dead)
/// started ──handler answered 1xx–4xx───────────────▶ completed (stored)
/// started ──handler answered 5xx or threw──────────▶ absent (released: the client may retry)
/// completed ──same request─────────────────────────▶ completed (replay, Idempotent-Replayed: true)
/// started/completed ──different request────────────▶ unchanged (422)
/// started/completed ──older than the retention─────▶ started (execute: an expired key is a new key)
/// ```
///
/// "Same request" means the same fingerprint (``IdempotencyFingerprint``): a key reused with other parameters is
/// refused even while the first use is still running, as Stripe refuses it.
public struct IdempotencyKeyStateMachine: Sendable {
    /// Where a key is.
    public enum State: Sendable, Hashable {
        /// No record (never used, released after a failure, or purged).
        case absent
        /// A request is executing with this key (or was, until its process died).
        case started(fingerprint: String, executionID: String, startedAt: Date)
        /// The request ran and its response is stored.
        case completed(fingerprint: String, executionID: String, startedAt: Date, response: StoredResponse)
    }

    /// Why a request executes.
    public enum ExecutionReason: Sendable, Hashable {
        /// The key was not in use.
        case firstUse
        /// The key's record was older than the retention: it counts as never used.
        case expired(previousExecutionID: String)
        /// A request with this key started longer ago than the lock timeout and never finished (its process
        /// crashed or lost the database): it is presumed dead and the request executes again.
        case abandoned(previousExecutionID: String)
    }

    /// What the middleware does with an arriving request.
    public enum ArrivalAction: Sendable, Hashable {
        /// Claim the key (insert it when ``ExecutionReason/firstUse``, otherwise replace the previous execution's
        /// record, only if it is still that one) and run the handler.
        case execute(ExecutionReason)
        /// Answer the stored response, marked `Idempotent-Replayed: true`.
        case replay(StoredResponse)
        /// `409`: the first request with this key is still running.
        case rejectInProgress(retryAfter: Duration)
        /// `422`: the key was used for a different request.
        case rejectMismatch
    }

    /// How the handler ended.
    public enum HandlerOutcome: Sendable, Hashable {
        case responded(StoredResponse)
        /// It threw (a validation error, a failure, cancellation).
        case threw
    }

    /// What the middleware writes when the handler ends.
    public enum FinishAction: Sendable, Hashable {
        /// Store the response and mark the key completed.
        case store(StoredResponse)
        /// Delete the record, so the key may be used again.
        case release
    }

    public private(set) var state: State
    /// How long a key is remembered (from when its execution began).
    public let retention: Duration
    /// How long a `started` key is considered running before it is presumed abandoned.
    public let lockTimeout: Duration

    public init(state: State, retention: Duration, lockTimeout: Duration) {
        self.state = state
        self.retention = retention
        self.lockTimeout = lockTimeout
    }

    /// The machine for a stored record (or none).
    public init(record: IdempotencyRecord?, retention: Duration, lockTimeout: Duration) {
        let state: State
        switch record {
        case nil: state = .absent
        case let record?:
            switch record.response {
            case nil: state = .started(fingerprint: record.fingerprint, executionID: record.executionID, startedAt: record.startedAt)
            case let response?:
                state = .completed(
                    fingerprint: record.fingerprint,
                    executionID: record.executionID,
                    startedAt: record.startedAt,
                    response: response
                )
            }
        }
        self.init(state: state, retention: retention, lockTimeout: lockTimeout)
    }

    /// A request with `fingerprint` arrived at `now`; when it is to execute, `executionID` names its run.
    public mutating func requestArrived(fingerprint: String, executionID: String, at now: Date) -> ArrivalAction {
        let started = State.started(fingerprint: fingerprint, executionID: executionID, startedAt: now)
        switch state {
        case .absent:
            state = started
            return .execute(.firstUse)
        case .started(let stored, let previous, let startedAt), .completed(let stored, let previous, let startedAt, _):
            if now.timeIntervalSince(startedAt) >= retention.inSeconds {
                state = started
                return .execute(.expired(previousExecutionID: previous))
            }
            guard stored == fingerprint else { return .rejectMismatch }
            if case .completed(_, _, _, let response) = state { return .replay(response) }
            if now.timeIntervalSince(startedAt) >= lockTimeout.inSeconds {
                state = started
                return .execute(.abandoned(previousExecutionID: previous))
            }
            return .rejectInProgress(retryAfter: .seconds(1))
        }
    }

    /// The handler of the started execution ended: a response below 500 is kept (Stripe keeps client errors
    /// too: the request was executed and answered), a 5xx or a thrown error releases the key.
    public mutating func handlerFinished(_ outcome: HandlerOutcome) -> FinishAction {
        guard case .started(let fingerprint, let executionID, let startedAt) = state else {
            preconditionFailure("a handler finished for an idempotency key that is \(state), not started")
        }
        switch outcome {
        case .responded(let response) where response.status < 500:
            state = .completed(fingerprint: fingerprint, executionID: executionID, startedAt: startedAt, response: response)
            return .store(response)
        case .responded, .threw:
            state = .absent
            return .release
        }
    }
}

/// A stored idempotency key: who used it, for which request, and what was answered.
public struct IdempotencyRecord: Sendable, Hashable {
    /// The client the key belongs to (keys of different clients never meet).
    public var scope: String
    public var key: String
    /// ``IdempotencyFingerprint`` of the request that used the key.
    public var fingerprint: String
    /// A random name for the run holding the key, so a finishing run only writes over its own record.
    public var executionID: String
    /// When the run began (retention and the lock timeout count from here).
    public var startedAt: Date
    public var completedAt: Date?
    /// The stored response once completed; `nil` while started.
    public var response: StoredResponse?

    public init(
        scope: String,
        key: String,
        fingerprint: String,
        executionID: String,
        startedAt: Date,
        completedAt: Date? = nil,
        response: StoredResponse? = nil
    ) {
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint
        self.executionID = executionID
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.response = response
    }
}

/// The part of a response that is replayed: status, the headers that matter, body.
public struct StoredResponse: Sendable, Hashable, Codable {
    public struct Header: Sendable, Hashable, Codable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var status: Int
    public var headers: [Header]
    public var body: [UInt8]

    public init(status: Int, headers: [Header], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
