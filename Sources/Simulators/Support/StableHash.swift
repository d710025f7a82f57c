/// A hash that is the same on every run and every machine (Swift's `Hasher` is seeded per process),
/// so simulated weather, ids and commit hashes never change between runs.
///
/// ```swift
/// let noise = StableHash(seed: city.id).mixing(day).mixing("wind").unitValue  // in [0, 1)
/// ```
struct StableHash: Sendable, Hashable {
    private(set) var value: UInt64

    init(seed: UInt64) {
        value = Self.splitMix(seed)
    }

    init(seed: Int) {
        self.init(seed: UInt64(bitPattern: Int64(seed)))
    }

    /// Combines an integer into the hash.
    func mixing(_ component: Int) -> StableHash {
        var copy = self
        copy.value = Self.splitMix(value ^ (UInt64(bitPattern: Int64(component)) &* 0x9E37_79B9_7F4A_7C15))
        return copy
    }

    /// Combines a string into the hash (FNV-1a over its UTF-8 bytes, then mixed).
    func mixing(_ component: String) -> StableHash {
        var fnv: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in component.utf8 {
            fnv ^= UInt64(byte)
            fnv = fnv &* 0x0000_0100_0000_01B3
        }
        var copy = self
        copy.value = Self.splitMix(value ^ fnv)
        return copy
    }

    /// A value uniformly spread over `[0, 1)`.
    var unitValue: Double {
        Double(value >> 11) / Double(UInt64(1) << 53)
    }

    /// A value in `range`.
    func value(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + unitValue * (range.upperBound - range.lowerBound)
    }

    /// An integer in `range`.
    func integer(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(value % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// `count` lowercase hex digits derived from the hash (for commit oids and request ids).
    func hex(_ count: Int) -> String {
        var digits = ""
        var state = self
        while digits.count < count {
            digits += String(state.value, radix: 16).leftPadded(to: 16)
            state = state.mixing(digits.count)
        }
        return String(digits.prefix(count))
    }

    private static func splitMix(_ input: UInt64) -> UInt64 {
        var z = input &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    func leftPadded(to length: Int, with pad: Character = "0") -> String {
        count >= length ? self : String(repeating: pad, count: length - count) + self
    }
}
