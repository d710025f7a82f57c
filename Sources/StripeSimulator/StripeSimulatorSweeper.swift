import ServiceLifecycle

/// Wakes every `interval` on the simulator's clock and sweeps: settles delayed payments that are due and expires
/// sessions past `expires_at`. Time comes from an injected sleep, so tests move it with a `ManualClock`.
final class StripeSimulatorSweeper: Sendable {
    let interval: Duration
    private let sleep: @Sendable (Duration) async throws -> Void

    init(interval: Duration, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        precondition(interval > .zero, "StripeSimulator sweepInterval must be positive")
        self.interval = interval
        self.sleep = sleep
    }

    /// Sleeps, sweeps, until graceful shutdown.
    func run(_ sweep: @Sendable () async -> Int) async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { [sleep, interval] in try await sleep(interval) }
            } catch {
                return
            }
            _ = await sweep()
        }
    }
}
