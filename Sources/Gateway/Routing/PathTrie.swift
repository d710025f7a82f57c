/// A character trie of path prefixes: walking a request path once yields, at each prefix that ends a route path,
/// the matchers registered there — the cost depends on the path's length, not on how many routes there are.
///
/// Edges live in one dictionary keyed by (node, byte), so a node costs a few bytes however many there are.
struct PathTrie: Sendable {
    private var edges: [UInt64: Int32] = [:]
    /// Per node: index into `lists`, or -1 when no path ends there.
    private var endings: [Int32] = [-1]
    private var lists: [[Int32]] = []

    var isEmpty: Bool { lists.isEmpty }

    /// Registers `matcher` at the node of `prefix`; `ordered` keeps each node's list sorted best-first.
    mutating func insert(_ prefix: String, matcher: Int32) {
        var node: Int32 = 0
        for byte in prefix.utf8 {
            let key = UInt64(UInt32(bitPattern: node)) << 8 | UInt64(byte)
            if let next = edges[key] {
                node = next
            } else {
                let next = Int32(endings.count)
                endings.append(-1)
                edges[key] = next
                node = next
            }
        }
        if endings[Int(node)] < 0 {
            endings[Int(node)] = Int32(lists.count)
            lists.append([])
        }
        let list = Int(endings[Int(node)])
        if !lists[list].contains(matcher) { lists[list].append(matcher) }
    }

    /// Sorts every node's matchers with `areInIncreasingOrder` (best first).
    mutating func sortLists(by areInIncreasingOrder: (Int32, Int32) -> Bool) {
        for index in lists.indices { lists[index].sort(by: areInIncreasingOrder) }
    }

    /// Calls `body` with (prefix length, matchers) for every registered prefix of `path`, shortest first.
    func forEachPrefix(of path: some Collection<UInt8>, _ body: (Int, [Int32]) -> Void) {
        var node: Int32 = 0
        var length = 0
        for byte in path {
            guard let next = edges[UInt64(UInt32(bitPattern: node)) << 8 | UInt64(byte)] else { return }
            node = next
            length += 1
            let list = endings[Int(node)]
            if list >= 0 { body(length, lists[Int(list)]) }
        }
    }
}
