import Foundation
import Testing

@testable import Idempotency

@Suite("CompletedRecordCache")
struct CompletedRecordCacheTests {
    static func record(_ key: String, bodyBytes: Int, scope: String = "s") -> IdempotencyRecord {
        var record = IdempotencyRecord(scope: scope, key: key, fingerprint: "f", executionID: "e-\(key)", startedAt: Date(timeIntervalSince1970: 0))
        record.response = StoredResponse(status: 201, headers: [], body: Array(repeating: 0x61, count: bodyBytes))
        return record
    }

    @Test("records beyond the byte budget push out the oldest, and a record larger than the budget is not kept")
    func evictsOldestWithinBudget() {
        let cache = CompletedRecordCache(capacityBytes: 3 * (1000 + 128))
        for key in ["a", "b", "c"] { cache.insert(Self.record(key, bodyBytes: 1000)) }
        #expect(["a", "b", "c"].allSatisfy { cache.record(scope: "s", key: $0) != nil })
        cache.insert(Self.record("d", bodyBytes: 1000))
        #expect(cache.record(scope: "s", key: "a") == nil)
        #expect(["b", "c", "d"].allSatisfy { cache.record(scope: "s", key: $0) != nil })
        cache.insert(Self.record("huge", bodyBytes: 10_000))
        #expect(cache.record(scope: "s", key: "huge") == nil)
        #expect(cache.record(scope: "s", key: "d") != nil)
    }

    @Test("a key stored again moves to the back; scopes never meet; a budget of 0 keeps nothing")
    func reinsertionScopesAndOff() {
        let cache = CompletedRecordCache(capacityBytes: 2 * (1000 + 128))
        cache.insert(Self.record("a", bodyBytes: 1000))
        cache.insert(Self.record("b", bodyBytes: 1000))
        cache.insert(Self.record("a", bodyBytes: 1000))  // a is now the newest
        cache.insert(Self.record("c", bodyBytes: 1000))  // evicts b, not a
        #expect(cache.record(scope: "s", key: "a") != nil)
        #expect(cache.record(scope: "s", key: "b") == nil)
        #expect(cache.record(scope: "other", key: "a") == nil)

        let off = CompletedRecordCache(capacityBytes: 0)
        off.insert(Self.record("a", bodyBytes: 1))
        #expect(off.record(scope: "s", key: "a") == nil)
    }

    @Test("records removed or purged by start time are gone")
    func removal() {
        let cache = CompletedRecordCache(capacityBytes: 1 << 20)
        cache.insert(Self.record("a", bodyBytes: 10))
        cache.insert(Self.record("b", bodyBytes: 10))
        cache.remove(scope: "s", key: "a")
        #expect(cache.record(scope: "s", key: "a") == nil)
        cache.removeAll(startedBefore: Date(timeIntervalSince1970: 1))
        #expect(cache.record(scope: "s", key: "b") == nil)
    }
}
