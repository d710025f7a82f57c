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

    /// The trie laid out for lookups (``CompiledPathTrie``).
    func compiled() -> CompiledPathTrie {
        var compiled: [CompiledPathTrie.Node] = []
        var childBytes: [UInt8] = []
        var childNodes: [Int32] = []
        var listItems: [Int32] = []
        compiled.reserveCapacity(nodes.count)
        for node in nodes {
            let listStart = Int32(listItems.count)
            if node.list >= 0 { listItems.append(contentsOf: lists[Int(node.list)]) }
            compiled.append(
                CompiledPathTrie.Node(
                    labelStart: node.labelStart,
                    labelLength: node.labelLength,
                    childStart: Int32(childBytes.count),
                    childCount: Int32(node.children.count),
                    listStart: listStart,
                    listCount: Int32(listItems.count) - listStart
                )
            )
            childBytes.append(contentsOf: node.childBytes)
            childNodes.append(contentsOf: node.children)
        }
        return CompiledPathTrie(nodes: compiled, labels: labels, childBytes: childBytes, childNodes: childNodes, listItems: listItems)
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

/// A ``PathTrie`` laid out for lookups: its nodes are plain values, and the children's first bytes and node numbers,
/// the edges' bytes and the matcher lists each live in one flat array. A walk retains nothing and reads each node's
/// children from one run of bytes — in a table of 10 000 routes, retaining a node's arrays or a list was a cache miss
/// on a cold reference count at every step.
struct CompiledPathTrie: Sendable {
    struct Node: Sendable {
        var labelStart: Int32
        var labelLength: Int32
        /// The children: `childBytes` and `childNodes` at `childStart ..< childStart + childCount`, by first byte.
        var childStart: Int32
        var childCount: Int32
        /// The matchers registered at this node: `listItems[listStart ..< listStart + listCount]`, best first.
        var listStart: Int32
        var listCount: Int32
    }

    private let nodes: [Node]
    private let labels: [UInt8]
    private let childBytes: [UInt8]
    private let childNodes: [Int32]
    private let listItems: [Int32]

    init(nodes: [Node], labels: [UInt8], childBytes: [UInt8], childNodes: [Int32], listItems: [Int32]) {
        self.nodes = nodes
        self.labels = labels
        self.childBytes = childBytes
        self.childNodes = childNodes
        self.listItems = listItems
    }

    var isEmpty: Bool { listItems.isEmpty }

    /// Calls `body` for every registered prefix of `path`, shortest first: the prefix's length and its matchers.
    func forEachPrefix(of path: some Collection<UInt8>, _ body: (Int, UnsafeBufferPointer<Int32>) -> Void) {
        let handled: Void? = path.withContiguousStorageIfAvailable { walk($0, body) }
        if handled == nil { Array(path).withUnsafeBufferPointer { walk($0, body) } }
    }

    private func walk(_ path: UnsafeBufferPointer<UInt8>, _ body: (Int, UnsafeBufferPointer<Int32>) -> Void) {
        var node = nodes[0]
        var offset = 0
        while offset < path.count {
            let first = path[offset]
            guard let slot = (Int(node.childStart)..<Int(node.childStart + node.childCount)).first(where: { childBytes[$0] == first }) else { return }
            let child = nodes[Int(childNodes[slot])]
            let (start, length) = (Int(child.labelStart), Int(child.labelLength))
            guard path.count - offset >= length else { return }
            var index = 1  // the first byte matched the slot
            while index < length {
                guard labels[start + index] == path[offset + index] else { return }
                index += 1
            }
            offset += length
            node = child
            if child.listCount > 0 {
                listItems.withUnsafeBufferPointer { items in
                    body(offset, UnsafeBufferPointer(rebasing: items[Int(child.listStart)..<Int(child.listStart + child.listCount)]))
                }
            }
        }
    }
}
