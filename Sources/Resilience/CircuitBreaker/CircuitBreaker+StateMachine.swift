/// The circuit breaker's decisions, as a value type with no I/O: every transition is a `mutating func`
/// that returns what happened, so the whole behaviour is testable with plain values.
package struct CircuitBreakerStateMachine: Sendable {
    // Mutations move the payload out (leaving `.empty` behind) before changing it, so its ring buffer stays
    // uniquely referenced and is updated in place instead of copied on every call.
    package enum Window: Sendable {
        case count(CountBasedWindow)
        case time(TimeBasedWindow)
        case empty

        mutating func record(_ outcome: CallOutcome, now: Duration) -> WindowTotals {
            switch consume self {
            case .count(var window):
                window.record(outcome)
                let totals = window.totals
                self = .count(window)
                return totals
            case .time(var window):
                window.record(outcome, now: now)
                let totals = window.totals(now: now)
                self = .time(window)
                return totals
            case .empty:
                preconditionFailure("circuit breaker window read while being mutated")
            }
        }

        mutating func totals(now: Duration) -> WindowTotals {
            switch consume self {
            case .count(let window):
                self = .count(window)
                return window.totals
            case .time(var window):
                let totals = window.totals(now: now)
                self = .time(window)
                return totals
            case .empty:
                preconditionFailure("circuit breaker window read while being mutated")
            }
        }
    }

    private struct HalfOpen: Sendable {
        var since: Duration
        var permitsIssued = 0
        var outcomes = WindowTotals()
    }

    private enum Phase: Sendable {
        /// Placeholder while a payload is being mutated in place; never observed outside one `mutating func`
        /// (every read of it traps, so it can never pass for a real state).
        case transitioning
        case closed(Window)
        case open(until: Duration)
        case halfOpen(HalfOpen)
        case forcedOpen
        case disabled
    }

    /// A permission to make one call; recording its outcome needs it back.
    package struct Permit: Sendable, Hashable {
        package let generation: UInt64
        package let state: CircuitBreaker.State
    }

    package enum Acquisition: Sendable, Hashable {
        case permitted(Permit)
        case rejected(CircuitBreaker.State, retryAfter: Duration?)
    }

    /// What a transition did: the states, and the rates that caused it when it was a trip.
    package struct Transition: Sendable, Hashable {
        package var from: CircuitBreaker.State
        package var to: CircuitBreaker.State
        package var totals: WindowTotals?
    }

    package let configuration: CircuitBreaker.Configuration
    private var phase: Phase
    /// Bumped on every transition so outcomes of calls admitted under an earlier state are not counted twice.
    private var generation: UInt64 = 0
    package private(set) var notPermittedCalls = 0

    package init(configuration: CircuitBreaker.Configuration, now: Duration) {
        self.configuration = configuration
        self.phase = .closed(Self.newWindow(configuration, now: now))
    }

    package var state: CircuitBreaker.State {
        switch phase {
        case .closed: .closed
        case .transitioning: preconditionFailure("circuit breaker state read while being mutated")
        case .open: .open
        case .halfOpen: .halfOpen
        case .forcedOpen: .forcedOpen
        case .disabled: .disabled
        }
    }

    /// Totals of the current window (closed) or of the probe calls (half-open).
    package mutating func totals(now: Duration) -> WindowTotals {
        switch phase {
        case .closed:
            guard case .closed(var window) = take() else { preconditionFailure("phase changed while being read") }
            let totals = window.totals(now: now)
            phase = .closed(window)
            return totals
        case .halfOpen(let halfOpen):
            return halfOpen.outcomes
        case .open, .forcedOpen, .disabled:
            return WindowTotals()
        case .transitioning:
            preconditionFailure("circuit breaker state read while being mutated")
        }
    }

    /// Moves the phase out, leaving a placeholder, so its payload can be mutated without a copy.
    private mutating func take() -> Phase {
        let current = phase
        phase = .transitioning
        return current
    }

    /// Asks to make a call; may move open → half-open when the wait is over.
    package mutating func acquire(now: Duration) -> (Acquisition, Transition?) {
        switch phase {
        case .transitioning:
            preconditionFailure("circuit breaker asked for a permit while being mutated")
        case .closed:
            return (.permitted(Permit(generation: generation, state: .closed)), nil)
        case .disabled:
            return (.permitted(Permit(generation: generation, state: .disabled)), nil)
        case .forcedOpen:
            notPermittedCalls += 1
            return (.rejected(.forcedOpen, retryAfter: nil), nil)
        case .open(let until):
            guard now >= until else {
                notPermittedCalls += 1
                return (.rejected(.open, retryAfter: until - now), nil)
            }
            let transition = moveTo(.halfOpen(HalfOpen(since: now)))
            let (acquisition, _) = acquire(now: now)
            return (acquisition, transition)
        case .halfOpen(var halfOpen):
            if let maxWait = configuration.maxWaitDurationInHalfOpenState, now - halfOpen.since >= maxWait {
                // Probes never reported back (or too slowly): treat the dependency as still down.
                let transition = moveTo(.open(until: now + configuration.waitDurationInOpenState))
                notPermittedCalls += 1
                return (.rejected(.open, retryAfter: configuration.waitDurationInOpenState), transition)
            }
            guard halfOpen.permitsIssued < configuration.permittedCallsInHalfOpenState else {
                notPermittedCalls += 1
                return (.rejected(.halfOpen, retryAfter: nil), nil)
            }
            halfOpen.permitsIssued += 1
            phase = .halfOpen(halfOpen)
            return (.permitted(Permit(generation: generation, state: .halfOpen)), nil)
        }
    }

    /// Records how a permitted call ended; may trip the breaker or close it after the probes.
    package mutating func record(_ permit: Permit, outcome: CallOutcome, now: Duration) -> Transition? {
        guard permit.generation == generation else { return nil }
        switch phase {
        case .closed:
            guard case .closed(var window) = take() else { preconditionFailure("phase changed while being read") }
            let totals = window.record(outcome, now: now)
            phase = .closed(window)
            guard totals.calls >= effectiveMinimumCalls, exceedsThresholds(totals) else { return nil }
            var transition = moveTo(.open(until: now + configuration.waitDurationInOpenState))
            transition?.totals = totals
            return transition
        case .halfOpen(var halfOpen):
            halfOpen.outcomes.add(outcome)
            phase = .halfOpen(halfOpen)
            guard halfOpen.outcomes.calls >= configuration.permittedCallsInHalfOpenState else { return nil }
            let totals = halfOpen.outcomes
            var transition: Transition?
            if exceedsThresholds(totals) {
                transition = moveTo(.open(until: now + configuration.waitDurationInOpenState))
            } else {
                transition = moveTo(.closed(Self.newWindow(configuration, now: now)))
            }
            transition?.totals = totals
            return transition
        case .open, .forcedOpen, .disabled:
            return nil
        case .transitioning:
            preconditionFailure("circuit breaker outcome recorded while being mutated")
        }
    }

    /// Gives back a permit whose call ended without an outcome worth counting (cancelled, ignored error).
    package mutating func release(_ permit: Permit) {
        guard permit.generation == generation, case .halfOpen(var halfOpen) = phase else { return }
        halfOpen.permitsIssued = max(0, halfOpen.permitsIssued - 1)
        phase = .halfOpen(halfOpen)
    }

    /// Moves to `state` by hand (force open, disable, reset to closed); returns nil when already there.
    package mutating func transition(to state: CircuitBreaker.State, now: Duration) -> Transition? {
        switch state {
        case .closed: moveTo(.closed(Self.newWindow(configuration, now: now)), evenIfSameState: true)
        case .open: moveTo(.open(until: now + configuration.waitDurationInOpenState))
        case .halfOpen: moveTo(.halfOpen(HalfOpen(since: now)))
        case .forcedOpen: moveTo(.forcedOpen)
        case .disabled: moveTo(.disabled)
        }
    }

    private var effectiveMinimumCalls: Int {
        if case .countBased(let size) = configuration.slidingWindow {
            return min(configuration.minimumNumberOfCalls, size)
        }
        return configuration.minimumNumberOfCalls
    }

    private func exceedsThresholds(_ totals: WindowTotals) -> Bool {
        guard totals.calls > 0 else { return false }
        return totals.failureRate >= configuration.failureRateThreshold
            || totals.slowCallRate >= configuration.slowCallRateThreshold
    }

    private mutating func moveTo(_ newPhase: Phase, evenIfSameState: Bool = false) -> Transition? {
        let from = state
        phase = newPhase
        let to = state
        guard from != to || evenIfSameState else { return nil }
        generation &+= 1
        return Transition(from: from, to: to, totals: nil)
    }

    private static func newWindow(_ configuration: CircuitBreaker.Configuration, now: Duration) -> Window {
        switch configuration.slidingWindow {
        case .countBased(let size): .count(CountBasedWindow(size: size))
        case .timeBased(let seconds): .time(TimeBasedWindow(seconds: seconds, now: now))
        }
    }
}
