import InterchangeTesting
import Testing

@testable import Resilience

@Suite("Clocks the policies run on")
struct ClockTests {
    @Test("ContinuousClock is read directly: time counts from when it was wrapped and sleeps wait for real")
    func continuous() async throws {
        let clock = ErasedClock(ContinuousClock())
        let start = clock.now
        #expect(start >= .zero && start < .seconds(1))
        try await clock.sleep(for: .milliseconds(5))
        #expect(clock.now - start >= .milliseconds(5))
    }

    @Test("an AnyClock and the ErasedClock made from it share one timeline")
    func sharedTimeline() {
        let manual = ManualClock()
        let any = AnyClock(manual)
        manual.advance(by: .seconds(3))
        let erased = ErasedClock(any)
        #expect(erased.now == any.now.offset)
        manual.advance(by: .seconds(2))
        #expect(erased.now == .seconds(5))
        #expect(any.now.offset == .seconds(5))
    }

    @Test("an injected clock counts from when it was wrapped and its sleeps follow it")
    func custom() async throws {
        let manual = ManualClock(advancesOnSleep: true)
        manual.advance(by: .seconds(100))
        let erased = ErasedClock(manual)
        #expect(erased.now == .zero)
        try await erased.sleep(for: .seconds(30))
        #expect(erased.now == .seconds(30))
    }
}
