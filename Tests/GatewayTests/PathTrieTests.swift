import Testing

@testable import Gateway

@Suite("PathTrie: the radix trie of route path prefixes, and its compiled form")
struct PathTrieTests {
    /// A small deterministic generator, so a failure names a reproducible case.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
    }

    @Test("every registered prefix of a path is found, shortest first, with its matchers — as a scan of all prefixes finds them")
    func agreesWithAScan() {
        var random = Generator(state: 42)
        // Paths over a tiny alphabet, so prefixes share, split and nest a lot.
        let alphabet = Array("/ab-1".utf8)
        func path(_ length: Int) -> [UInt8] { [UInt8(ascii: "/")] + (0..<length).map { _ in alphabet.randomElement(using: &random)! } }
        var trie = PathTrie()
        var registered: [[UInt8]: [Int32]] = [:]
        for matcher in 0..<400 {
            let prefix = path(Int.random(in: 0..<8, using: &random))
            trie.insert(String(decoding: prefix, as: UTF8.self), matcher: Int32(matcher))
            registered[prefix, default: []].append(Int32(matcher))
            if matcher % 3 == 0 {  // the same matcher twice is kept once
                trie.insert(String(decoding: prefix, as: UTF8.self), matcher: Int32(matcher))
            }
        }
        let compiled = trie.compiled()
        for _ in 0..<2000 {
            let request = path(Int.random(in: 0..<12, using: &random))
            var found: [(Int, [Int32])] = []
            compiled.forEachPrefix(of: request) { found.append(($0, Array($1))) }
            let expected = (1...request.count).compactMap { length in registered[Array(request.prefix(length))].map { (length, $0) } }
            #expect(found.map(\.0) == expected.map(\.0), "\(String(decoding: request, as: UTF8.self))")
            #expect(found.map(\.1) == expected.map(\.1))
        }
        #expect(!trie.isEmpty && !compiled.isEmpty)
        #expect(PathTrie().isEmpty && PathTrie().compiled().isEmpty)
    }
}
