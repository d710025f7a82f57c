import InterchangeCore
import InterchangeTesting
import Resilience
import Testing

@Suite("SingleFlightCache")
struct SingleFlightCacheTests {
    @Test("N concurrent callers for a missing key cause one load")
    func singleFlight() async throws {
        let clock = ManualClock()
        let cache = try SingleFlightCache<String, Int>(ttl: .seconds(60), clock: clock)
        let loads = Counter()
        let gate = Gate()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await cache.value(for: "berlin") {
                        loads.increment()
                        await gate.wait()
                        return 21
                    }.value
                }
            }
            await gate.waitUntilWaiting(1)
            for _ in 0..<20 { await Task.yield() }
            gate.open()
            for try await value in group { #expect(value == 21) }
        }
        #expect(loads.count == 1)
    }

    @Test("a value is fresh for its TTL, then reloaded")
    func ttl() async throws {
        let clock = ManualClock()
        let cache = try SingleFlightCache<String, Int>(ttl: .seconds(60), clock: clock)
        let loads = Counter()
        let first = try await cache.value(for: "k") { loads.increment() }
        clock.advance(by: .seconds(59))
        let second = try await cache.value(for: "k") { loads.increment() }
        #expect(first.value == 1 && second.value == 1 && second.age == .seconds(59))
        clock.advance(by: .seconds(1))
        #expect(try await cache.value(for: "k") { loads.increment() }.value == 2)
    }

    @Test("when the reload fails, the last value is served stale within the window, then the error")
    func staleIfError() async throws {
        let clock = ManualClock()
        let cache = try SingleFlightCache<String, Int>(ttl: .seconds(60), staleIfError: .seconds(600), clock: clock)
        _ = try await cache.value(for: "k") { 7 }
        clock.advance(by: .seconds(120))
        let stale = try await cache.value(for: "k") { throw Boom() }
        #expect(stale.value == 7)
        #expect(stale.isStale)
        #expect(stale.age == .seconds(120))
        #expect(stale.staleCause is Boom)
        clock.advance(by: .seconds(600))
        await #expect(throws: Boom.self) { try await cache.value(for: "k") { throw Boom() } }
    }

    @Test("waiters share the loader's error when there is nothing stale")
    func sharedError() async throws {
        let cache = try SingleFlightCache<String, Int>(ttl: .seconds(60))
        let gate = Gate()
        let first = Task {
            try await cache.value(for: "k") {
                await gate.wait()
                throw Boom(id: 1)
            }.value
        }
        await gate.waitUntilWaiting(1)
        let second = Task { try await cache.value(for: "k") { 2 }.value }
        for _ in 0..<20 { await Task.yield() }
        gate.open()
        await #expect(throws: Boom(id: 1)) { _ = try await first.value }
        _ = try? await second.value  // joined the failed flight, or loaded after it: either is correct
    }

    @Test("least recently used keys are evicted beyond maxEntries")
    func eviction() async throws {
        let cache = try SingleFlightCache<Int, Int>(ttl: .seconds(60), maxEntries: 2)
        for key in 0..<3 { _ = try await cache.value(for: key) { key } }
        #expect(cache.count == 2)
    }

    @Test("invalid settings name the field")
    func validation() {
        #expect { try SingleFlightCache<Int, Int>(ttl: .zero) } throws: { ($0 as? ConfigurationError)?.field == "ttl" }
    }
}
