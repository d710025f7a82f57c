import ArgumentParser
import Foundation
import Resilience
import Synchronization

/// Circuit breaker and rate limiter decisions per second when many threads make them at once, beside a bare
/// `Mutex` increment under the same contention (the floor any lock-based decision pays).
///
/// The deciders are OS threads, not tasks: Swift's cooperative pool has one thread per core, and a task that
/// never suspends runs its whole loop before the next task on that thread starts, so "64 tasks" would be at
/// most as many deciders as cores. Here every thread is started, waits at a gate, and all are released together,
/// so on this machine two cores hammer the same lock while the other threads queue on it (a thread preempted
/// while it holds the lock makes the rest wait, as on a busy server).
struct PolicyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policies", abstract: "Breaker and limiter decisions/s under contention.")

    @Option(help: "Threads deciding at once.") var threads = 64
    @Option(help: "Decisions per thread.") var perThread = 5_000
    @Option(help: "Rounds; every case is measured once per round, in turn.") var rounds = 3

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

        // Every case returns whether its decision admitted the call; refusals are counted and shown.
        let cases: [(String, @Sendable () -> Bool)] = [
            (
                "baseline: Mutex<Int> increment",
                {
                    counter.withLock { $0 += 1 }
                    return true
                }
            ),
            (
                "circuit breaker (count window): acquire + record",
                {
                    guard let permit = try? breaker.acquirePermission() else { return false }
                    breaker.record(permit, failed: false, duration: .milliseconds(1))
                    return true
                }
            ),
            (
                "circuit breaker (time window): acquire + record",
                {
                    guard let permit = try? timeBreaker.acquirePermission() else { return false }
                    timeBreaker.record(permit, failed: false, duration: .milliseconds(1))
                    return true
                }
            ),
            ("rate limiter (token bucket): tryAcquire", { bucket.tryAcquire() == .acquired }),
            ("rate limiter (sliding window): tryAcquire", { window.tryAcquire() == .acquired }),
        ]
        for (_, decide) in cases { _ = runContention(threads: threads, perThread: perThread / 10, decide) }  // warm-up

        // Interleaved: round r measures every case, alone and contended, before round r + 1 starts.
        var contended = Array(repeating: [Double](), count: cases.count)
        var alone = Array(repeating: [Double](), count: cases.count)
        var refused = Array(repeating: 0, count: cases.count)
        for _ in 1...rounds {
            for (index, (_, decide)) in cases.enumerated() {
                let single = runContention(threads: 1, perThread: perThread * 4, decide)
                let many = runContention(threads: threads, perThread: perThread, decide)
                alone[index].append(single.rate)
                contended[index].append(many.rate)
                refused[index] += single.refused + many.refused
            }
        }
        print(
            "| decision | 1 thread, decisions/s | \(threads) threads contending, decisions/s | contended vs Mutex baseline (median of \(rounds) paired rounds) | refused |"
        )
        print("|---|---:|---:|---:|---:|")
        for (index, (name, _)) in cases.enumerated() {
            let paired = zip(contended[index], contended[0]).map { $0 / $1 }
            print(
                String(
                    format: "| %@ | %.0f | %.0f | %.2f× | %d |",
                    name,
                    median(alone[index]),
                    median(contended[index]),
                    median(paired),
                    refused[index]
                )
            )
        }
    }
}

/// Decisions per second when `threads` OS threads, released together, each make `perThread` decisions, and how
/// many were refused (every case is configured to admit all calls; a refusal is shown, not hidden).
func runContention(threads: Int, perThread: Int, _ decide: @escaping @Sendable () -> Bool) -> (rate: Double, refused: Int) {
    let gate = DispatchSemaphore(value: 0)
    let ready = DispatchGroup()
    let done = DispatchGroup()
    let refused = SharedCount()
    for _ in 0..<threads {
        ready.enter()
        done.enter()
        let thread = Thread {
            ready.leave()
            gate.wait()
            var denied = 0
            for _ in 0..<perThread where !decide() { denied += 1 }
            refused.add(denied)
            done.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    ready.wait()
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<threads { gate.signal() }
    done.wait()
    let elapsed = start.duration(to: clock.now)
    return (Double(threads * perThread) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18), refused.current)
}
