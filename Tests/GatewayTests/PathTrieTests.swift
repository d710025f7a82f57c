import Testing

@testable import Gateway

@Suite("PathTrie: the radix trie of route path prefixes, and its compiled form")
struct PathTrieTests {
    /// A small deterministic generator (SplitMix64), so a failure names a reproducible case. It must fill all 64
    /// bits: `Int.random(in:)` scales by the high bits, and an earlier version that returned 53 made every length
    /// and letter 0 — each path was "/".
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A tiny alphabet and short paths: prefixes share, split and nest a lot, and many matchers share a prefix. A
    /// large one and long paths: nodes with more than 8 children and edges longer than 8 bytes, which the compiled
    /// form keeps outside its nodes.
    @Test(
        "every registered prefix of a path is found, shortest first, with its matchers — as a scan of all prefixes finds them",
        arguments: [("/ab-1", 8), ("/abcdefghijklmnop-0123456789", 24)]
    )
    func agreesWithAScan(alphabet: String, maxLength: Int) {
        var random = Generator(state: 42)
        let alphabet = Array(alphabet.utf8)
        func path(_ length: Int) -> [UInt8] { [UInt8(ascii: "/")] + (0..<length).map { _ in alphabet.randomElement(using: &random)! } }
        var trie = PathTrie()
        var registered: [[UInt8]: [Int32]] = [:]
        for matcher in 0..<400 {
            let prefix = path(Int.random(in: 0..<maxLength, using: &random))
            trie.insert(String(decoding: prefix, as: UTF8.self), matcher: Int32(matcher))
            registered[prefix, default: []].append(Int32(matcher))
            if matcher % 3 == 0 {  // the same matcher twice is kept once
                trie.insert(String(decoding: prefix, as: UTF8.self), matcher: Int32(matcher))
            }
        }
        let compiled = trie.compiled()
        #expect(registered.count > 100 && registered.values.contains { $0.count > 1 })  // varied, and some shared
        let prefixes = registered.keys.sorted { $0.lexicographicallyPrecedes($1) }  // in a reproducible order
        for _ in 0..<2000 {
            // A third extend a registered prefix, so long edges are walked to their end; a third extend one with a
            // byte changed, so a walk must notice a difference anywhere in an edge.
            var start = [UInt8(ascii: "/")]
            switch Int.random(in: 0..<3, using: &random) {
            case 0: start = prefixes.randomElement(using: &random)!
            case 1:
                start = prefixes.randomElement(using: &random)!
                start[Int.random(in: 0..<start.count, using: &random)] = alphabet.randomElement(using: &random)!
            default: break
            }
            let request = start + path(Int.random(in: 0..<maxLength / 2, using: &random)).dropFirst()
            var found: [(Int, [Int32])] = []
            compiled.forEachPrefix(of: request) { found.append(($0, Array($1))) }
            let expected = (1...request.count).compactMap { length in registered[Array(request.prefix(length))].map { (length, $0) } }
            #expect(found.map(\.0) == expected.map(\.0), "\(String(decoding: request, as: UTF8.self))")
            #expect(found.map(\.1) == expected.map(\.1))
        }
        #expect(!trie.isEmpty && !compiled.isEmpty)
        if maxLength > 8 {  // the second shape did reach the nodes' overflow paths
            #expect(compiled.sideBytes.labels > 0 && compiled.sideBytes.childBytes > 0)
        }
        #expect(PathTrie().isEmpty && PathTrie().compiled().isEmpty)
    }
}
