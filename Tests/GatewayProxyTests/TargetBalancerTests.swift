import Gateway
import Testing

@testable import GatewayProxy

@Suite("Target balancer: round robin, least connections, consistent hashing")
struct TargetBalancerTests {
    @Test("round robin gives each target its weight's share, interleaved, and never a weight-0 target")
    func weightedRoundRobin() {
        let balancer = TargetBalancer(weights: [3, 1, 0], algorithm: .roundRobin)
        let picks = (0..<400).compactMap { _ in balancer.pick { _ in true } }
        #expect(picks.filter { $0 == 0 }.count == 300)
        #expect(picks.filter { $0 == 1 }.count == 100)
        #expect(!picks.contains(2))
        // Smooth: the light target is spread out, never picked twice in a row.
        #expect(!zip(picks, picks.dropFirst()).contains { $0 == 1 && $1 == 1 })
    }

    @Test("a target that is not available is skipped; none available is nil")
    func availability() {
        let balancer = TargetBalancer(weights: [1, 1, 1], algorithm: .roundRobin)
        let picks = (0..<6).compactMap { _ in balancer.pick { $0 != 1 } }
        #expect(Set(picks) == [0, 2])
        #expect(balancer.pick { _ in false } == nil)
    }

    @Test("least connections picks the target with the fewest requests in flight per weight")
    func leastConnections() {
        let balancer = TargetBalancer(weights: [1, 1], algorithm: .leastConnections)
        balancer.started(0)
        balancer.started(0)
        #expect(balancer.pick { _ in true } == 1)
        balancer.started(1)
        #expect(balancer.pick { _ in true } == 1)
        balancer.finished(0)
        balancer.finished(0)
        #expect(balancer.pick { _ in true } == 0)
        // Weighted: two in flight on a weight-2 target is as loaded as one on a weight-1 target; three is more.
        let weighted = TargetBalancer(weights: [2, 1], algorithm: .leastConnections)
        weighted.started(0)
        weighted.started(0)
        weighted.started(0)
        weighted.started(1)
        #expect(weighted.pick { _ in true } == 1)
    }

    @Test("consistent hashing: a key stays on its target, in any balancer; only a removed target's keys move")
    func consistentHashing() {
        let keys = (0..<2000).map { "user-\($0)" }
        let first = TargetBalancer(weights: [100, 100, 100, 100], algorithm: .consistentHashing)
        let second = TargetBalancer(weights: [100, 100, 100, 100], algorithm: .consistentHashing)
        let placed = keys.map { first.pick(key: $0) { _ in true }! }
        #expect(keys.map { second.pick(key: $0) { _ in true }! } == placed, "stable across instances (and processes)")
        #expect(keys.map { first.pick(key: $0) { _ in true }! } == placed, "stable across calls")
        for target in 0..<4 {
            let share = Double(placed.filter { $0 == target }.count) / Double(keys.count)
            #expect(share > 0.15 && share < 0.35, "target \(target) has \(share) of the keys")
        }
        let withoutTwo = keys.map { first.pick(key: $0) { $0 != 2 }! }
        for (before, after) in zip(placed, withoutTwo) {
            if before == 2 { #expect(after != 2) } else { #expect(after == before) }
        }
    }
}
