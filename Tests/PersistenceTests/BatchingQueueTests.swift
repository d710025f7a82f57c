import InterchangeTesting
import Persistence
import Synchronization
import Testing

@Suite("BatchingQueue", .timeLimit(.minutes(1)))
struct BatchingQueueTests {
    /// Records every batch flushed; the first flush waits at a gate so later submissions queue behind it.
    final class Recorder: Sendable {
        let batches = LockedValue<[[Int]]>([])
        let gate = Gate()
        let inFlight = ConcurrencyProbe()
    }

    @Test("items submitted while a flush runs go out together in the next one, each caller getting its own result")
    func coalesces() async throws {
        let recorder = Recorder()
        let queue = BatchingQueue<Int, Int>(maxBatchSize: 64) { items in
            recorder.inFlight.enter()
            defer { recorder.inFlight.leave() }
            recorder.batches.append(items)
            if items == [0] { await recorder.gate.wait() }
            return items.map { $0 * 10 }
        }
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            group.addTask { (0, try await queue.submit(0)) }
            try await waitUntil("the first batch is flushing") { recorder.batches.value.count == 1 }
            for item in 1...20 { group.addTask { (item, try await queue.submit(item)) } }
            // Nothing else is flushed while the first batch holds the only slot.
            try await waitUntil("20 callers wait") { queue.waiting == 20 }
            #expect(recorder.batches.value.count == 1)
            recorder.gate.open()
            for try await (item, result) in group { #expect(result == item * 10) }
        }
        let batches = recorder.batches.value
        #expect(batches.count == 2, "the 20 waiting items should go out as one batch, got \(batches)")
        #expect(Set(batches[1]) == Set(1...20))
        #expect(recorder.inFlight.peak == 1)
    }

    @Test("a batch never exceeds maxBatchSize, and every item is flushed exactly once")
    func respectsMaxBatchSize() async throws {
        let recorder = Recorder()
        let queue = BatchingQueue<Int, Int>(maxBatchSize: 4) { items in
            recorder.batches.append(items)
            if items == [0] { await recorder.gate.wait() }
            return items
        }
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { try await queue.submit(0) }
            try await waitUntil("the first batch is flushing") { recorder.batches.value.count == 1 }
            for item in 1...10 { group.addTask { try await queue.submit(item) } }
            try await waitUntil("10 callers wait") { queue.waiting == 10 }
            recorder.gate.open()
            for try await _ in group {}
        }
        let batches = recorder.batches.value
        #expect(batches.allSatisfy { $0.count <= 4 })
        #expect(batches.flatMap { $0 }.sorted() == Array(0...10))
    }

    @Test("a failed flush fails every caller of that batch and only them")
    func failurePropagates() async throws {
        struct Refused: Error {}
        let recorder = Recorder()
        let queue = BatchingQueue<Int, Int>(maxBatchSize: 64) { items in
            recorder.batches.append(items)
            if items == [0] { await recorder.gate.wait() }
            if items.contains(13) { throw Refused() }
            return items
        }
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            group.addTask { (0, (try? await queue.submit(0)) != nil) }
            try await waitUntil("the first batch is flushing") { recorder.batches.value.count == 1 }
            for item in [12, 13, 14] { group.addTask { (item, (try? await queue.submit(item)) != nil) } }
            try await waitUntil("3 callers wait") { queue.waiting == 3 }
            recorder.gate.open()
            var outcomes: [Int: Bool] = [:]
            for try await (item, succeeded) in group { outcomes[item] = succeeded }
            return outcomes
        }
        #expect(outcomes == [0: true, 12: false, 13: false, 14: false])
        // The queue keeps working after a failed batch.
        #expect(try await queue.submit(7) == 7)
    }

    @Test("with two slots, two batches run at once")
    func concurrentBatches() async throws {
        let recorder = Recorder()
        let queue = BatchingQueue<Int, Int>(maxBatchSize: 64, maxConcurrentBatches: 2) { items in
            recorder.inFlight.enter()
            defer { recorder.inFlight.leave() }
            recorder.batches.append(items)
            await recorder.gate.wait()
            return items
        }
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask { try await queue.submit(1) }
            group.addTask { try await queue.submit(2) }
            try await waitUntil("two batches are flushing") { recorder.batches.value.count == 2 }
            recorder.gate.open()
            for try await _ in group {}
        }
        #expect(recorder.inFlight.peak == 2)
    }
}
