import Gateway
import Synchronization

/// Picks the target of an upstream for each request, by Kong's three algorithms, among the targets the caller
/// says are available (their breakers admit a call, they were not tried already for this request).
///
/// - round-robin: smooth weighted round robin (nginx's): over any window, each target gets its weight's share, and
///   heavier targets are interleaved with lighter ones rather than bunched.
/// - least-connections: the target with the fewest requests in flight relative to its weight; ties go round robin.
/// - consistent-hashing: a ring of `slots` points shared out by weight; a key (a header, a cookie, the client's
///   address) always lands on the same target while that target is available, and only the keys of a target that
///   goes away move.
///
/// Targets of weight 0 are never picked (Kong's way of disabling one).
final class TargetBalancer: Sendable {
    let algorithm: Upstream.Algorithm
    private let weights: [Int]
    /// Consistent hashing: ring positions (sorted hash values) and the target each belongs to.
    private let ring: [(point: UInt64, target: Int)]
    private let state: Mutex<State>

    private struct State {
        var current: [Int]
        var inFlight: [Int]
        var cursor = 0
    }

    init(weights: [Int], algorithm: Upstream.Algorithm, slots: Int = 10_000) {
        self.algorithm = algorithm
        self.weights = weights
        self.state = Mutex(State(current: Array(repeating: 0, count: weights.count), inFlight: Array(repeating: 0, count: weights.count)))
        if algorithm == .consistentHashing {
            let total = max(1, weights.reduce(0, +))
            var ring: [(point: UInt64, target: Int)] = []
            for (target, weight) in weights.enumerated() where weight > 0 {
                let points = max(1, slots * weight / total)
                for point in 0..<points { ring.append((StableHash.of("\(target)#\(point)"), target)) }
            }
            self.ring = ring.sorted { $0.point < $1.point }
        } else {
            self.ring = []
        }
    }

    /// The target for one attempt, nil when no target is available.
    ///
    /// - Parameters:
    ///   - key: what consistent hashing hashes (nil: fall back to round robin).
    ///   - isAvailable: whether a target may take this attempt.
    func pick(key: String? = nil, isAvailable: (Int) -> Bool) -> Int? {
        let eligible = weights.indices.filter { weights[$0] > 0 && isAvailable($0) }
        guard !eligible.isEmpty else { return nil }
        switch algorithm {
        case .consistentHashing:
            if let key, !ring.isEmpty { return onRing(StableHash.of(key), eligible: Set(eligible)) }
            return roundRobin(eligible)
        case .leastConnections:
            return state.withLock { state in
                // Fewest in flight per unit of weight: a / wa < b / wb  ⇔  a · wb < b · wa.
                let least = eligible.min { a, b in state.inFlight[a] * weights[b] < state.inFlight[b] * weights[a] }!
                let tied = eligible.filter { state.inFlight[$0] * weights[least] == state.inFlight[least] * weights[$0] }
                guard tied.count > 1 else { return least }
                state.cursor &+= 1
                return tied[state.cursor % tied.count]
            }
        case .roundRobin:
            return roundRobin(eligible)
        }
    }

    private func roundRobin(_ eligible: [Int]) -> Int {
        state.withLock { state in
            var total = 0
            var best = eligible[0]
            for target in eligible {
                state.current[target] += weights[target]
                total += weights[target]
                if state.current[target] > state.current[best] { best = target }
            }
            state.current[best] -= total
            return best
        }
    }

    private func onRing(_ hash: UInt64, eligible: Set<Int>) -> Int? {
        // The first point at or after the hash, walking on (and around) past targets that are not available.
        var low = 0
        var high = ring.count
        while low < high {
            let middle = (low + high) / 2
            if ring[middle].point < hash { low = middle + 1 } else { high = middle }
        }
        for step in 0..<ring.count {
            let target = ring[(low + step) % ring.count].target
            if eligible.contains(target) { return target }
        }
        return nil
    }

    /// A request to `target` started (least-connections counts it until ``finished(_:)``).
    func started(_ target: Int) {
        state.withLock { $0.inFlight[target] += 1 }
    }

    func finished(_ target: Int) {
        state.withLock { $0.inFlight[target] -= 1 }
    }

    func inFlight(_ target: Int) -> Int {
        state.withLock { $0.inFlight[target] }
    }
}

/// FNV-1a over UTF-8, then a 64-bit finalizer (splitmix64) so that nearby keys spread over the ring. Stable across
/// processes and runs, unlike `Hasher`: two gateways send one key to the same target.
enum StableHash {
    static func of(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 30
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash = hash &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return hash
    }
}
