import InterchangeCore
import InterchangeTesting
import Resilience
import Testing

@Suite("SingleFlightCache", .timeLimit(.minutes(1)))
struct SingleFlightCacheTests {
    @Test("N concurrent callers for a missing key cause one load, and all get its value")
    func singleFlight() async throws {
        let clock = ManualClock()
        let cache = try SingleFlightCache<String, Int>(ttl: .seconds(60), clock: clock)
        let loads = CallCounter()
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
            // The load holds until the 49 other callers wait for it: they overlap for real.
            try await waitUntil("one load is in flight and 49 callers wait for it") { loads.count == 1 && cache.waitingCallers(for: "berlin") == 49 }
            gate.open()
            var values: [Int] = []
            for try await value in group { values.append(value) }
            #expect(values == Array(repeating: 21, count: 50))
        }
        #expect(loads.count == 1)
        #expect(cache.waitingCallers(for: "berlin") == 0)
    }

    @Test("a value is fresh for its TTL, then reloaded")
    func ttl() async throws {
        let clock = ManualClock()
        let cache = try SingleFlightCache<String, Int>(ttl: .seconds(60), clock: clock)
        let loads = CallCounter()
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

    @Test("every caller waiting for a failed load gets its error, when there is nothing stale")
    func sharedError() async throws {
        let cache = try SingleFlightCache<String, Int>(ttl: .seconds(60))
        let loads = CallCounter()
        let gate = Gate()
        try await withThrowingTaskGroup(of: Result<Int, Boom>.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    do {
                        return .success(
                            try await cache.value(for: "k") {
                                let number = loads.increment()
                                await gate.wait()
                                throw Boom(id: number)
                            }.value
                        )
                    } catch let boom as Boom {
                        return .failure(boom)
                    }
                }
            }
            try await waitUntil("one load is in flight and 9 callers wait for it") { loads.count == 1 && cache.waitingCallers(for: "k") == 9 }
            gate.open()
            var outcomes: [Result<Int, Boom>] = []
            for try await outcome in group { outcomes.append(outcome) }
            #expect(outcomes.count == 10)
            #expect(outcomes.allSatisfy { $0 == .failure(Boom(id: 1)) })
        }
        #expect(loads.count == 1)
    }

    @Test("when the loading caller is cancelled, a waiting caller loads instead of failing")
    func cancelledLoader() async throws {
        let cache = try SingleFlightCache<String, Int>(ttl: .seconds(60))
        let loads = CallCounter()
        let firstLoadStarted = Gate()
        let neverAdvanced = ManualClock()
        let loader = Task {
            try await cache.value(for: "k") {
                loads.increment()
                firstLoadStarted.open()
                try await neverAdvanced.sleep(for: .seconds(1))  // returns only by being cancelled
                return 1
            }.value
        }
        await firstLoadStarted.wait()
        let waiter = Task { try await cache.value(for: "k") { loads.increment() * 10 }.value }
        try await waitUntil("a caller waits for the first load") { cache.waitingCallers(for: "k") == 1 }
        loader.cancel()
        await #expect(throws: CancellationError.self) { try await loader.value }
        #expect(try await waiter.value == 20)
        #expect(loads.count == 2)
    }

    @Test("with freshWhile, the value's own rule decides freshness and a failed reload serves nothing stale")
    func callerDecidesFreshness() async throws {
        struct Token: Sendable, Equatable {
            var value: String
            var expiresAt: Duration
        }
        let clock = ManualClock()
        let cache = try SingleFlightCache<String, Token>(ttl: .seconds(1), staleIfError: .seconds(3600), clock: clock)
        let isFresh: (Token) -> Bool = { clock.now.offset < $0.expiresAt }
        let first = try await cache.value(for: "t", freshWhile: isFresh, load: { Token(value: "a", expiresAt: .seconds(300)) })
        clock.advance(by: .seconds(299))  // far beyond the TTL, within the token's own lifetime
        let second = try await cache.value(for: "t", freshWhile: isFresh, load: { Token(value: "b", expiresAt: .seconds(900)) })
        #expect(first.value.value == "a" && second.value.value == "a" && second.age == .seconds(299))
        clock.advance(by: .seconds(1))
        await #expect(throws: Boom.self) { try await cache.value(for: "t", freshWhile: isFresh, load: { throw Boom() }) }
        let reloaded = try await cache.value(for: "t", freshWhile: isFresh, load: { Token(value: "c", expiresAt: .seconds(900)) })
        #expect(reloaded.value.value == "c")
    }

    @Test("invalidate(_:if:) drops only the value it matches")
    func conditionalInvalidation() async throws {
        let cache = try SingleFlightCache<String, Int>(ttl: .seconds(60))
        _ = try await cache.value(for: "k") { 1 }
        cache.invalidate("k", if: { $0 == 2 })  // a caller holding an older value does not drop the current one
        #expect(try await cache.value(for: "k") { 3 }.value == 1)
        cache.invalidate("k", if: { $0 == 1 })
        #expect(try await cache.value(for: "k") { 3 }.value == 3)
    }

    @Test("least recently used keys are evicted beyond maxEntries")
    func eviction() async throws {
        let cache = try SingleFlightCache<Int, Int>(ttl: .seconds(60), maxEntries: 2)
        let loads = CallCounter()
        func value(_ key: Int) async throws -> Int {
            try await cache.value(for: key) {
                loads.increment()
                return key
            }.value
        }
        _ = try await value(0)
        _ = try await value(1)
        _ = try await value(0)  // 0 is now more recently used than 1
        #expect(loads.count == 2)
        _ = try await value(2)  // a third key: the least recently used, 1, goes
        #expect(cache.count == 2)
        _ = try await value(0)
        #expect(loads.count == 3, "0 was kept")
        _ = try await value(1)
        #expect(loads.count == 4, "1 was evicted and loads again")
    }

    @Test("invalid settings name the field")
    func validation() {
        #expect { try SingleFlightCache<Int, Int>(ttl: .zero) } throws: { ($0 as? ConfigurationError)?.field == "ttl" }
    }
}
