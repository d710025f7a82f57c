import ArgumentParser
import Foundation
import Resilience
import Synchronization

/// Circuit breaker and rate limiter decisions per second under contention, beside a bare `Mutex`
/// increment under the same contention (the floor any lock-based decision pays).
struct PolicyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policies", abstract: "Breaker and limiter decisions/s under contention.")

    @Option(help: "Concurrent tasks.") var tasks = 64
    @Option(help: "Decisions per task.") var perTask = 200_000

    func run() async throws {
        let counter = Mutex(0)
        let breaker = try CircuitBreaker(
            name: "bench",
            configuration: .init(slidingWindow: .countBased(size: 100), minimumNumberOfCalls: 100),
            metricsFactory: BenchmarkMetrics()
        )
        let timeBreaker = try CircuitBreaker(
            name: "bench-time",
            configuration: .init(slidingWindow: .timeBased(seconds: 60), minimumNumberOfCalls: 100),
            metricsFactory: BenchmarkMetrics()
        )
        let bucket = try RateLimiter(name: "bench", algorithm: .tokenBucket(capacity: 1_000_000_000, refillPerSecond: 1_000_000_000))
        let window = try RateLimiter(name: "bench", algorithm: .slidingWindow(limit: 1000, window: .nanoseconds(1)))

        let cases: [(String, @Sendable () -> Void)] = [
            ("baseline: Mutex<Int> increment", { counter.withLock { $0 += 1 } }),
            (
                "circuit breaker (count window): acquire + record",
                {
                    if let permit = try? breaker.acquirePermission() { breaker.record(permit, failed: false, duration: .milliseconds(1)) }
                }
            ),
            (
                "circuit breaker (time window): acquire + record",
                {
                    if let permit = try? timeBreaker.acquirePermission() { timeBreaker.record(permit, failed: false, duration: .milliseconds(1)) }
                }
            ),
            ("rate limiter (token bucket): tryAcquire", { _ = bucket.tryAcquire() }),
            ("rate limiter (sliding window): tryAcquire", { _ = window.tryAcquire() }),
        ]
        print("| decision (\(tasks) tasks contending) | decisions/s | vs Mutex baseline |")
        print("|---|---:|---:|")
        var baseline = 0.0
        for (name, decide) in cases {
            _ = await runContention(tasks: tasks, perTask: perTask / 10, decide)  // warm-up
            let rate = median([
                await runContention(tasks: tasks, perTask: perTask, decide),
                await runContention(tasks: tasks, perTask: perTask, decide),
                await runContention(tasks: tasks, perTask: perTask, decide),
            ])
            if baseline == 0 { baseline = rate }
            print(String(format: "| %@ | %.0f | %.2f× |", name, rate, rate / baseline))
        }
    }
}
