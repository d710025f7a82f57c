import Foundation
import Synchronization

/// Completed idempotency records kept in memory, within a byte budget, oldest out first.
///
/// A completed record does not change until it expires (only an expired or abandoned record is ever taken over),
/// so serving a replay from here answers what the database would. What a record costs is its stored body and
/// headers; a record larger than the whole budget is not kept.
final class CompletedRecordCache: Sendable {
    private struct Key: Hashable {
        var scope: String
        var key: String
    }

    private struct State {
        var records: [Key: (record: IdempotencyRecord, cost: Int, generation: UInt64)] = [:]
        /// Insertion order, for eviction; an entry removed or inserted again since is skipped when met.
        var order: [(key: Key, generation: UInt64)] = []
        var orderStart = 0
        var bytes = 0
        var generation: UInt64 = 0
    }

    let capacityBytes: Int
    private let state = Mutex(State())

    init(capacityBytes: Int) {
        self.capacityBytes = capacityBytes
    }

    func record(scope: String, key: String) -> IdempotencyRecord? {
        guard capacityBytes > 0 else { return nil }
        return state.withLock { $0.records[Key(scope: scope, key: key)]?.record }
    }

    func insert(_ record: IdempotencyRecord) {
        guard let response = record.response else { return }
        let cost = response.body.count + response.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count } + 128
        guard cost <= capacityBytes else { return }
        let key = Key(scope: record.scope, key: record.key)
        state.withLock { state in
            if let previous = state.records.removeValue(forKey: key) { state.bytes -= previous.cost }
            state.generation &+= 1
            state.records[key] = (record, cost, state.generation)
            state.order.append((key, state.generation))
            state.bytes += cost
            while state.bytes > capacityBytes, state.orderStart < state.order.count {
                let oldest = state.order[state.orderStart]
                state.orderStart += 1
                if let entry = state.records[oldest.key], entry.generation == oldest.generation {
                    state.bytes -= entry.cost
                    state.records[oldest.key] = nil
                }
            }
            if state.orderStart > 1024, state.orderStart * 2 > state.order.count {
                state.order.removeFirst(state.orderStart)
                state.orderStart = 0
            }
        }
    }

    func remove(scope: String, key: String) {
        state.withLock { state in
            if let entry = state.records.removeValue(forKey: Key(scope: scope, key: key)) { state.bytes -= entry.cost }
        }
    }

    /// Drops every record whose execution began before `cutoff` (what a purge deleted).
    func removeAll(startedBefore cutoff: Date) {
        state.withLock { state in
            for (key, entry) in state.records where entry.record.startedAt < cutoff {
                state.records[key] = nil
                state.bytes -= entry.cost
            }
        }
    }
}
