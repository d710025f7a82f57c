import Metrics
import Synchronization

/// A metrics backend that really records (atomic counters, a last-value recorder), so "metrics on" costs
/// what a real backend's hot path costs, without a registry to render.
final class BenchmarkMetrics: MetricsFactory, Sendable {
    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { AtomicCounter() }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { LastValue() }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { LastValue() }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    final class AtomicCounter: CounterHandler, Sendable {
        let value = Atomic<Int64>(0)
        func increment(by amount: Int64) { value.wrappingAdd(amount, ordering: .relaxed) }
        func reset() { value.store(0, ordering: .relaxed) }
    }

    final class LastValue: RecorderHandler, TimerHandler, Sendable {
        let value = Atomic<Int64>(0)
        func record(_ value: Int64) { self.value.store(value, ordering: .relaxed) }
        func record(_ value: Double) { self.value.store(Int64(value), ordering: .relaxed) }
        func recordNanoseconds(_ duration: Int64) { value.store(duration, ordering: .relaxed) }
    }
}
