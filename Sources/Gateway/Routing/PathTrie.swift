/// A path-compressed (radix) trie of path prefixes: walking a request path once yields, at each prefix that ends a
/// route path, the matchers registered there — the cost depends on the path's length and on where registered paths
/// branch, not on how many routes there are.
///
/// Each node holds the run of bytes on its incoming edge (a slice of one shared byte array, compared in place) and
/// its children's first bytes beside their node numbers, so a walk makes one small search per branch point instead
/// of a hash lookup per byte.
struct PathTrie: Sendable {
    private struct Node: Sendable {
        /// The edge's bytes: `labels[labelStart ..< labelStart + labelLength]`.
        var labelStart: Int32
        var labelLength: Int32
        /// The children's first bytes, ascending, and the children in the same order.
        var childBytes: [UInt8] = []
        var children: [Int32] = []
        /// Index into `lists`, or -1 when no registered path ends here.
        var list: Int32 = -1
    }

    private var nodes: [Node] = [Node(labelStart: 0, labelLength: 0)]
    private var labels: [UInt8] = []
    private var lists: [[Int32]] = []

    var isEmpty: Bool { lists.isEmpty }

    /// Registers `matcher` at the node of `prefix` (once per prefix).
    mutating func insert(_ prefix: String, matcher: Int32) {
        let path = Array(prefix.utf8)
        var node = 0
        var offset = 0
        while offset < path.count {
            let byte = path[offset]
            guard let slot = nodes[node].childBytes.firstIndex(of: byte) else {
                // No edge starts with this byte: the rest of the path is one new edge.
                let child = appendNode(label: path[offset...])
                insertChild(child, firstByte: byte, into: node)
                node = child
                offset = path.count
                break
            }
            let child = Int(nodes[node].children[slot])
            let common = commonLength(of: child, with: path[offset...])
            if common < Int(nodes[child].labelLength) { split(child, at: common, parent: node, slot: slot) }
            node = Int(nodes[node].children[slot])
            offset += common
        }
        if nodes[node].list < 0 {
            nodes[node].list = Int32(lists.count)
            lists.append([])
        }
        let list = Int(nodes[node].list)
        if !lists[list].contains(matcher) { lists[list].append(matcher) }
    }

    /// Sorts every node's matchers with `areInIncreasingOrder` (best first).
    mutating func sortLists(by areInIncreasingOrder: (Int32, Int32) -> Bool) {
        for index in lists.indices { lists[index].sort(by: areInIncreasingOrder) }
    }

    /// Calls `body` with (prefix length, matchers) for every registered prefix of `path`, shortest first.
    func forEachPrefix(of path: some Collection<UInt8>, _ body: (Int, [Int32]) -> Void) {
        let handled: Void? = path.withContiguousStorageIfAvailable { walk($0, body) }
        if handled == nil { Array(path).withUnsafeBufferPointer { walk($0, body) } }
    }

    private func walk(_ path: UnsafeBufferPointer<UInt8>, _ body: (Int, [Int32]) -> Void) {
        labels.withUnsafeBufferPointer { labels in
            var node = 0
            var offset = 0
            while offset < path.count {
                guard let slot = nodes[node].childBytes.firstIndex(of: path[offset]) else { return }
                let child = Int(nodes[node].children[slot])
                let (start, length) = (Int(nodes[child].labelStart), Int(nodes[child].labelLength))
                guard path.count - offset >= length else { return }
                var index = 1  // the first byte matched the slot
                while index < length {
                    guard labels[start + index] == path[offset + index] else { return }
                    index += 1
                }
                offset += length
                node = child
                let list = nodes[child].list
                if list >= 0 { body(offset, lists[Int(list)]) }
            }
        }
    }

    private mutating func appendNode(label: ArraySlice<UInt8>) -> Int {
        let start = labels.count
        labels.append(contentsOf: label)
        nodes.append(Node(labelStart: Int32(start), labelLength: Int32(label.count)))
        return nodes.count - 1
    }

    private mutating func insertChild(_ child: Int, firstByte: UInt8, into parent: Int) {
        let position = nodes[parent].childBytes.firstIndex { $0 > firstByte } ?? nodes[parent].childBytes.count
        nodes[parent].childBytes.insert(firstByte, at: position)
        nodes[parent].children.insert(Int32(child), at: position)
    }

    /// How many leading bytes of `child`'s label `path` shares.
    private func commonLength(of child: Int, with path: ArraySlice<UInt8>) -> Int {
        let (start, length) = (Int(nodes[child].labelStart), Int(nodes[child].labelLength))
        var common = 0
        while common < length, common < path.count, labels[start + common] == path[path.startIndex + common] { common += 1 }
        return common
    }

    /// Splits `child`'s edge after `length` bytes: a new node takes the first part (in the parent's `slot`), and
    /// `child` keeps the rest below it.
    private mutating func split(_ child: Int, at length: Int, parent: Int, slot: Int) {
        let start = Int(nodes[child].labelStart)
        let middle = nodes.count
        nodes.append(Node(labelStart: Int32(start), labelLength: Int32(length)))
        nodes[middle].childBytes = [labels[start + length]]
        nodes[middle].children = [Int32(child)]
        nodes[child].labelStart += Int32(length)
        nodes[child].labelLength -= Int32(length)
        nodes[parent].children[slot] = Int32(middle)
    }
}
