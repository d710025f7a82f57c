import Testing

@testable import Resilience

/// `CircuitBreakerStateMachine` as a plain value: no lock, no clock, no I/O — every rule checked by calling its
/// transitions with instants and outcomes.
@Suite("CircuitBreakerStateMachine")
struct CircuitBreakerStateMachineTests {
    typealias Machine = CircuitBreakerStateMachine

    let configuration = CircuitBreaker.Configuration(
        failureRateThreshold: 50,
        slowCallRateThreshold: 100,
        slowCallDurationThreshold: .seconds(1),
        slidingWindow: .countBased(size: 4),
        minimumNumberOfCalls: 4,
        waitDurationInOpenState: .seconds(30),
        permittedCallsInHalfOpenState: 2
    )

    static let failure = CallOutcome(failed: true, slow: false)
    static let success = CallOutcome(failed: false, slow: false)

    func permit(_ machine: inout Machine, at now: Duration) -> Machine.Permit? {
        if case .permitted(let permit) = machine.acquire(now: now).0 { return permit }
        return nil
    }

    /// Records `outcomes` one permitted call each, returning the last transition.
    @discardableResult
    func calls(_ machine: inout Machine, _ outcomes: [CallOutcome], at now: Duration) -> Machine.Transition? {
        var last: Machine.Transition?
        for outcome in outcomes {
            guard let permit = permit(&machine, at: now) else {
                Issue.record("a call was rejected in state \(machine.state)")
                return last
            }
            last = machine.record(permit, outcome: outcome, now: now) ?? last
        }
        return last
    }

    @Test("closed → open once the window holds the minimum calls and the failure rate reaches the threshold")
    func tripsOnFailureRate() {
        var machine = Machine(configuration: configuration, now: .zero)
        #expect(calls(&machine, [Self.failure, Self.failure, Self.success], at: .zero) == nil)
        #expect(machine.state == .closed)
        let transition = calls(&machine, [Self.success], at: .seconds(1))
        #expect(transition == Machine.Transition(from: .closed, to: .open, totals: WindowTotals(calls: 4, failures: 2, slowCalls: 0)))
        #expect(machine.state == .open)
    }

    @Test("open rejects with the time left until half-open, and counts the rejections")
    func openRejects() {
        var machine = Machine(configuration: configuration, now: .zero)
        calls(&machine, Array(repeating: Self.failure, count: 4), at: .zero)
        let (acquisition, transition) = machine.acquire(now: .seconds(10))
        #expect(acquisition == .rejected(.open, retryAfter: .seconds(20)))
        #expect(transition == nil)
        #expect(machine.notPermittedCalls == 1)
    }

    @Test("open → half-open on the first request after the wait; exactly the permitted probes go through")
    func halfOpenAdmitsProbes() {
        var machine = Machine(configuration: configuration, now: .zero)
        calls(&machine, Array(repeating: Self.failure, count: 4), at: .zero)
        let (first, transition) = machine.acquire(now: .seconds(30))
        #expect(transition == Machine.Transition(from: .open, to: .halfOpen, totals: nil))
        guard case .permitted = first else {
            Issue.record("the first probe was rejected")
            return
        }
        guard case .permitted = machine.acquire(now: .seconds(30)).0 else {
            Issue.record("the second probe was rejected")
            return
        }
        #expect(machine.acquire(now: .seconds(30)).0 == .rejected(.halfOpen, retryAfter: nil))
    }

    @Test("half-open → closed when the probes succeed, with an empty window")
    func probesClose() {
        var machine = Machine(configuration: configuration, now: .zero)
        calls(&machine, Array(repeating: Self.failure, count: 4), at: .zero)
        let transition = calls(&machine, [Self.success, Self.success], at: .seconds(31))
        #expect(transition?.from == .halfOpen)
        #expect(transition?.to == .closed)
        #expect(machine.totals(now: .seconds(31)) == WindowTotals())
    }

    @Test("half-open → open again when the probes fail")
    func probesReopen() {
        var machine = Machine(configuration: configuration, now: .zero)
        calls(&machine, Array(repeating: Self.failure, count: 4), at: .zero)
        let transition = calls(&machine, [Self.failure, Self.success], at: .seconds(31))
        #expect(transition?.to == .open)
        #expect(machine.acquire(now: .seconds(32)).0 == .rejected(.open, retryAfter: .seconds(29)))
    }

    @Test("an outcome of a call admitted before a transition is not counted after it")
    func staleOutcomeIgnored() {
        var machine = Machine(configuration: configuration, now: .zero)
        guard let early = permit(&machine, at: .zero) else {
            Issue.record("closed breaker rejected a call")
            return
        }
        calls(&machine, Array(repeating: Self.failure, count: 4), at: .zero)
        #expect(machine.state == .open)
        _ = machine.transition(to: .closed, now: .seconds(1))
        #expect(machine.record(early, outcome: Self.failure, now: .seconds(1)) == nil)
        #expect(machine.totals(now: .seconds(1)) == WindowTotals())
    }

    @Test("a released half-open permit frees its probe slot")
    func releaseFreesProbe() {
        var machine = Machine(configuration: configuration, now: .zero)
        calls(&machine, Array(repeating: Self.failure, count: 4), at: .zero)
        guard let probe = permit(&machine, at: .seconds(30)), permit(&machine, at: .seconds(30)) != nil else {
            Issue.record("probes were rejected")
            return
        }
        #expect(machine.acquire(now: .seconds(30)).0 == .rejected(.halfOpen, retryAfter: nil))
        machine.release(probe)
        #expect(permit(&machine, at: .seconds(30)) != nil)
    }

    @Test("forced open rejects everything; disabled admits everything; reset closes")
    func manualStates() {
        var machine = Machine(configuration: configuration, now: .zero)
        #expect(machine.transition(to: .forcedOpen, now: .zero)?.to == .forcedOpen)
        #expect(machine.acquire(now: .seconds(1000)).0 == .rejected(.forcedOpen, retryAfter: nil))
        #expect(machine.transition(to: .disabled, now: .zero)?.to == .disabled)
        for _ in 0..<10 {
            guard let permit = permit(&machine, at: .zero) else {
                Issue.record("a disabled breaker rejected a call")
                return
            }
            #expect(machine.record(permit, outcome: Self.failure, now: .zero) == nil)
        }
        #expect(machine.state == .disabled)
        #expect(machine.transition(to: .closed, now: .zero)?.to == .closed)
    }

    @Test("slow calls trip the breaker at the slow-call rate")
    func tripsOnSlowCalls() {
        var configuration = configuration
        configuration.slowCallRateThreshold = 50
        var machine = Machine(configuration: configuration, now: .zero)
        let slow = CallOutcome(failed: false, slow: true)
        let transition = calls(&machine, [slow, slow, Self.success, Self.success], at: .zero)
        #expect(transition?.to == .open)
        #expect(transition?.totals == WindowTotals(calls: 4, failures: 0, slowCalls: 2))
    }
}
