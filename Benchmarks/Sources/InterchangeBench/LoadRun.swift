import Foundation
import Histogram

/// Closed-loop load: `concurrency` workers each send requests back to back for `duration`;
/// latencies go into an HdrHistogram (microseconds).
struct LoadResult {
    var requests: Int
    var errors: Int
    var seconds: Double
    var histogram: Histogram<UInt64>

    var requestsPerSecond: Double { Double(requests) / seconds }
    var p50Milliseconds: Double { Double(histogram.valueAtPercentile(50)) / 1000 }
    var p99Milliseconds: Double { Double(histogram.valueAtPercentile(99)) / 1000 }
}

func runLoad(concurrency: Int, duration: Duration, _ operation: @escaping @Sendable () async throws -> Void) async -> LoadResult {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + duration
    let perWorker = await withTaskGroup(of: (Int, Int, Histogram<UInt64>).self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                var count = 0
                var errors = 0
                while clock.now < deadline {
                    let begin = clock.now
                    do {
                        try await operation()
                        count += 1
                        let elapsed = begin.duration(to: clock.now)
                        _ = histogram.record(
                            UInt64(max(1, elapsed.components.attoseconds / 1_000_000_000_000 + elapsed.components.seconds * 1_000_000))
                        )
                    } catch {
                        errors += 1
                    }
                }
                return (count, errors, histogram)
            }
        }
        var results: [(Int, Int, Histogram<UInt64>)] = []
        for await result in group { results.append(result) }
        return results
    }
    var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    for (_, _, histogram) in perWorker { merged.add(histogram) }
    let elapsed = start.duration(to: clock.now)
    return LoadResult(
        requests: perWorker.reduce(0) { $0 + $1.0 },
        errors: perWorker.reduce(0) { $0 + $1.1 },
        seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18,
        histogram: merged
    )
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}
