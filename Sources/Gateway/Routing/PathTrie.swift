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

    /// The trie laid out for lookups (``CompiledPathTrie``): nodes numbered breadth first, so that each node's
    /// children are consecutive, with short edges, small fan-outs and single matchers packed into the node. Each
    /// node's matchers are listed in ascending order: a lower number is a better matcher.
    func compiled() -> CompiledPathTrie {
        var order = [0]
        var number = [Int32](repeating: 0, count: nodes.count)
        var next = 0
        while next < order.count {
            for child in nodes[order[next]].children {
                number[Int(child)] = Int32(order.count)
                order.append(Int(child))
            }
            next += 1
        }
        var compiled: [CompiledPathTrie.Node] = []
        var longLabels: [UInt8] = []
        var manyChildBytes: [UInt8] = []
        var listItems: [Int32] = []
        compiled.reserveCapacity(nodes.count)
        for old in order {
            let node = nodes[old]
            let label = labels[Int(node.labelStart)..<Int(node.labelStart + node.labelLength)]
            let list = node.list >= 0 ? lists[Int(node.list)].sorted() : []
            var packed = CompiledPathTrie.Node(
                label: 0,
                childBytes: 0,
                firstChild: node.children.first.map { number[Int($0)] } ?? 0,
                labelLength: node.labelLength,
                list: list.count == 1 ? list[0] : Int32(listItems.count),
                listCount: Int32(list.count),
                childCount: Int32(node.children.count)
            )
            if label.count <= CompiledPathTrie.packed {
                packed.label = CompiledPathTrie.pack(label)
            } else {
                packed.label = UInt64(longLabels.count)
                longLabels.append(contentsOf: label)
            }
            if node.childBytes.count <= CompiledPathTrie.packed {
                packed.childBytes = CompiledPathTrie.pack(node.childBytes[...])
            } else {
                packed.childBytes = UInt64(manyChildBytes.count)
                manyChildBytes.append(contentsOf: node.childBytes)
            }
            if list.count > 1 { listItems.append(contentsOf: list) }
            compiled.append(packed)
        }
        return CompiledPathTrie(nodes: compiled, longLabels: longLabels, manyChildBytes: manyChildBytes, listItems: listItems)
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

/// A ``PathTrie`` laid out for lookups, one node a step: a node packs its edge's bytes and its children's first
/// bytes (up to 8 of each, the rest in side arrays), its children are consecutive (`firstChild ..< firstChild +
/// childCount`), and a single matcher is stored in the node itself. In a table of 10 000 routes a step used to read a
/// node, its children's bytes and numbers, its edge's bytes and its list from five arrays — cache misses each, most of
/// a match's extra cost over a small table; now it reads one node.
struct CompiledPathTrie: Sendable {
    struct Node: Sendable {
        /// The edge's bytes, the first in the lowest byte (`labelLength` ≤ 8), or where they start in `longLabels`.
        var label: UInt64
        /// The children's first bytes, ascending, packed as `label` (`childCount` ≤ 8), or where they start in
        /// `manyChildBytes`.
        var childBytes: UInt64
        var firstChild: Int32
        var labelLength: Int32
        /// The matchers registered at this node, best first: the matcher itself when `listCount` is 1, else where
        /// they start in `listItems`.
        var list: Int32
        var listCount: Int32
        var childCount: Int32
    }

    /// How many bytes a node holds in place of an index.
    static let packed = 8

    static func pack(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var word: UInt64 = 0
        for (shift, byte) in bytes.enumerated() { word |= UInt64(byte) << (8 * shift) }
        return word
    }

    private let nodes: [Node]
    private let longLabels: [UInt8]
    private let manyChildBytes: [UInt8]
    private let listItems: [Int32]

    init(nodes: [Node], longLabels: [UInt8], manyChildBytes: [UInt8], listItems: [Int32]) {
        self.nodes = nodes
        self.longLabels = longLabels
        self.manyChildBytes = manyChildBytes
        self.listItems = listItems
    }

    var isEmpty: Bool { nodes.allSatisfy { $0.listCount == 0 } }

    /// The bytes kept outside the nodes: of edges longer than 8 bytes, and of nodes with more than 8 children.
    var sideBytes: (labels: Int, childBytes: Int) { (longLabels.count, manyChildBytes.count) }

    /// Calls `body` for every registered prefix of `path`, shortest first: the prefix's length and its matchers.
    func forEachPrefix(of path: some Collection<UInt8>, _ body: (Int, UnsafeBufferPointer<Int32>) -> Void) {
        let handled: Void? = path.withContiguousStorageIfAvailable { walk($0, body) }
        if handled == nil { Array(path).withUnsafeBufferPointer { walk($0, body) } }
    }

    private func walk(_ path: UnsafeBufferPointer<UInt8>, _ body: (Int, UnsafeBufferPointer<Int32>) -> Void) {
        var node = nodes[0]
        var offset = 0
        while offset < path.count {
            guard let slot = slot(of: path[offset], among: node) else { return }
            let child = nodes[Int(node.firstChild) + slot]
            let length = Int(child.labelLength)
            guard path.count - offset >= length, labelMatches(child, path, at: offset) else { return }
            offset += length
            node = child
            if child.listCount == 1 {
                var single = child.list
                withUnsafePointer(to: &single) { body(offset, UnsafeBufferPointer(start: $0, count: 1)) }
            } else if child.listCount > 1 {
                listItems.withUnsafeBufferPointer { items in
                    body(offset, UnsafeBufferPointer(rebasing: items[Int(child.list)..<Int(child.list + child.listCount)]))
                }
            }
        }
    }

    /// Which of `node`'s children starts with `byte`.
    private func slot(of byte: UInt8, among node: Node) -> Int? {
        let count = Int(node.childCount)
        if count <= Self.packed {
            var bytes = node.childBytes
            for slot in 0..<count {
                if UInt8(truncatingIfNeeded: bytes) == byte { return slot }
                bytes >>= 8
            }
            return nil
        }
        let start = Int(node.childBytes)
        return (0..<count).first { manyChildBytes[start + $0] == byte }
    }

    /// Whether `path` continues at `offset` with `node`'s edge (its first byte already matched).
    private func labelMatches(_ node: Node, _ path: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
        let length = Int(node.labelLength)
        if length <= Self.packed {
            var bytes = node.label >> 8
            for index in 1..<max(1, length) {
                guard UInt8(truncatingIfNeeded: bytes) == path[offset + index] else { return false }
                bytes >>= 8
            }
            return true
        }
        let start = Int(node.label)
        for index in 1..<length where longLabels[start + index] != path[offset + index] { return false }
        return true
    }
}
