import Synchronization

/// Group commit: concurrent callers' items are written together, one statement for many rows.
///
/// A database statement costs about the same for one row as for ten — the round trip, the thread hops, the
/// transaction — so under concurrency, writing what arrived while the previous write ran as one batch turns N
/// statements into one. There is no timer and no background task: the first caller with nothing in flight writes
/// its own item at once (no added latency when idle); callers arriving meanwhile wait, and when the write finishes
/// the first of them leads the next batch with everything that queued up (up to `maxBatchSize`).
///
/// ```swift
/// let claims = BatchingQueue<Claim, Bool>(maxBatchSize: 64) { claims in
///     try await store.insertAll(claims)          // one INSERT … VALUES (…), (…) … RETURNING
/// }
/// let claimed = try await claims.submit(claim)
/// ```
///
/// `flush` answers one result per item, in order; when it throws, every item of that batch gets the error.
public final class BatchingQueue<Item: Sendable, Output: Sendable>: Sendable {
    public typealias Flush = @Sendable ([Item]) async throws -> [Output]

    private enum Signal: Sendable {
        case done(Result<Output, any Error>)
        /// The waiter leads the next batch, which includes its own item.
        case lead
    }

    private struct Waiter: Sendable {
        var item: Item
        var continuation: CheckedContinuation<Signal, Never>
    }

    private struct State: Sendable {
        var pending: [Waiter] = []
        var inFlight = 0
    }

    public let maxBatchSize: Int
    public let maxConcurrentBatches: Int
    private let flush: Flush
    private let state = Mutex(State())

    /// - Parameters:
    ///   - maxBatchSize: the most items in one call of `flush`.
    ///   - maxConcurrentBatches: how many calls of `flush` may run at once (1 for SQLite's single writer; more can
    ///     use several PostgreSQL connections).
    public init(maxBatchSize: Int = 64, maxConcurrentBatches: Int = 1, flush: @escaping Flush) {
        precondition(maxBatchSize > 0 && maxConcurrentBatches > 0, "batch size and concurrency must be positive")
        self.maxBatchSize = maxBatchSize
        self.maxConcurrentBatches = maxConcurrentBatches
        self.flush = flush
    }

    /// How many callers wait for a batch to take their item (for tests and metrics).
    public var waiting: Int { state.withLock { $0.pending.count } }

    /// Writes `item` with whatever else is waiting, and returns its result.
    public func submit(_ item: Item) async throws -> Output {
        let signal = await withCheckedContinuation { (continuation: CheckedContinuation<Signal, Never>) in
            // A leader is never in `pending`: only waiters are, so no waiter can be resumed twice.
            let leads = state.withLock { state -> Bool in
                guard state.inFlight < maxConcurrentBatches else {
                    state.pending.append(Waiter(item: item, continuation: continuation))
                    return false
                }
                state.inFlight += 1
                return true
            }
            if leads { continuation.resume(returning: .lead) }
        }
        switch signal {
        case .done(let result):
            return try result.get()
        case .lead:
            return try await lead(item: item)
        }
    }

    /// Flushes a batch of this caller's item and the longest-waiting others, hands the lead on, and answers.
    private func lead(item: Item) async throws -> Output {
        let others = state.withLock { state -> [Waiter] in
            let count = min(maxBatchSize - 1, state.pending.count)
            let others = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            return others
        }
        let results: Result<[Output], any Error>
        do {
            let outputs = try await flush([item] + others.map(\.item))
            precondition(outputs.count == others.count + 1, "a BatchingQueue flush must answer one result per item")
            results = .success(outputs)
        } catch {
            results = .failure(error)
        }
        // The next leader is whoever waits longest (it keeps this batch's slot); with nobody waiting, the slot is free.
        let next = state.withLock { state -> Waiter? in
            guard !state.pending.isEmpty else {
                state.inFlight -= 1
                return nil
            }
            return state.pending.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
        for (index, waiter) in others.enumerated() {
            waiter.continuation.resume(returning: .done(results.map { $0[index + 1] }))
        }
        return try results.get()[0]
    }
}
