#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Stripe's nested form encoding (`application/x-www-form-urlencoded` with bracketed keys), decoded into a tree.
///
/// Stripe's SDKs send objects as `metadata[order_id]=o_1`, arrays as `line_items[0][quantity]=2` (indexed) or
/// `expand[]=payment_intent` (appended), and nest the two freely:
///
/// ```swift
/// let form = try StripeForm(decoding: "line_items[0][price_data][product_data][name]=Mug&expand[]=line_items")
/// form["line_items"]?[0]?["price_data"]?["product_data"]?["name"]?.string   // "Mug"
/// form["expand"]?.list?.compactMap(\.string)                                // ["line_items"]
/// ```
///
/// Objects whose keys are all non-negative integers read as arrays too (`list`), in index order, so
/// `expand[0]=a&expand[1]=b` and `expand[]=a&expand[]=b` mean the same. A key given twice keeps its last value, as
/// Stripe does; a key used both as a value and as an object (`a=1&a[b]=2`) is an error naming the key.
public struct StripeForm: Sendable, Hashable {
    /// One node of the tree.
    public indirect enum Node: Sendable, Hashable {
        case value(String)
        /// Members in the order they first appeared.
        case object([Member])
        case array([Node])

        public struct Member: Sendable, Hashable {
            public var key: String
            public var node: Node
        }

        public var string: String? {
            if case .value(let value) = self { return value }
            return nil
        }

        /// The members of an object (empty for anything else).
        public var members: [Member] {
            if case .object(let members) = self { return members }
            return []
        }

        public var isObject: Bool {
            if case .object = self { return true }
            return false
        }

        /// The elements of an array, or of an object whose keys are all indexes (sorted by index); nil otherwise.
        public var list: [Node]? {
            switch self {
            case .array(let elements): return elements
            case .object(let members):
                let indexed = members.compactMap { member in Int(member.key).map { ($0, member.node) } }
                guard indexed.count == members.count, indexed.allSatisfy({ $0.0 >= 0 }) else { return nil }
                return indexed.sorted { $0.0 < $1.0 }.map(\.1)
            case .value(let value):
                // `expand=` sent as an empty string means an empty list, as Stripe reads it.
                return value.isEmpty ? [] : nil
            }
        }

        public subscript(key: String) -> Node? {
            members.first { $0.key == key }?.node
        }

        public subscript(index: Int) -> Node? {
            guard let list, list.indices.contains(index) else { return nil }
            return list[index]
        }
    }

    /// A key that cannot be decoded.
    public struct DecodingError: Error, Hashable, CustomStringConvertible {
        /// The offending key, as sent.
        public var key: String
        public var reason: String
        public var description: String { "invalid parameter '\(key)': \(reason)" }
    }

    /// The top-level object.
    public private(set) var root: Node = .object([])

    public init() {}

    /// Decodes a form body or query string (`a=1&b[c]=2`). `+` is a space; percent escapes are decoded in keys
    /// and values.
    public init(decoding encoded: String) throws(DecodingError) {
        for pair in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.percentDecoded(parts[0])
            let value = parts.count > 1 ? Self.percentDecoded(parts[1]) : ""
            guard !key.isEmpty else { continue }
            try insert(value, at: key)
        }
    }

    public subscript(key: String) -> Node? { root[key] }

    /// The top-level keys, in order.
    public var keys: [String] { root.members.map(\.key) }

    /// Sets `value` at a bracketed key (`line_items[0][quantity]`).
    public mutating func insert(_ value: String, at key: String) throws(DecodingError) {
        let path = try Self.path(of: key)
        root = try Self.inserting(.value(value), into: root, path: path[...], key: key)
    }

    /// Every leaf as (bracketed key, value), sorted by key: a canonical form for comparing two requests' parameters.
    public var canonicalPairs: [(key: String, value: String)] {
        var pairs: [(String, String)] = []
        func walk(_ node: Node, _ prefix: String) {
            switch node {
            case .value(let value): pairs.append((prefix, value))
            case .object(let members):
                for member in members { walk(member.node, prefix.isEmpty ? member.key : "\(prefix)[\(member.key)]") }
            case .array(let elements):
                for (index, element) in elements.enumerated() { walk(element, "\(prefix)[\(index)]") }
            }
        }
        walk(root, "")
        return pairs.sorted { $0.0 < $1.0 }
    }

    // MARK: Parsing

    /// `a[b][][0]` → `["a", "b", "", "0"]`; an empty segment means "append".
    static func path(of key: String) throws(DecodingError) -> [String] {
        guard let open = key.firstIndex(of: "[") else { return [key] }
        let base = String(key[..<open])
        guard !base.isEmpty else { throw DecodingError(key: key, reason: "a key cannot start with '['") }
        var segments = [base]
        var rest = key[open...]
        while !rest.isEmpty {
            guard rest.first == "[", let close = rest.firstIndex(of: "]") else {
                throw DecodingError(key: key, reason: "unbalanced brackets")
            }
            let segment = rest[rest.index(after: rest.startIndex)..<close]
            guard !segment.contains("[") else { throw DecodingError(key: key, reason: "unbalanced brackets") }
            segments.append(String(segment))
            rest = rest[rest.index(after: close)...]
        }
        return segments
    }

    private static func inserting(_ leaf: Node, into node: Node, path: ArraySlice<String>, key: String) throws(DecodingError) -> Node {
        guard let segment = path.first else { return leaf }
        let rest = path.dropFirst()
        if segment.isEmpty {
            // Append: `expand[]=a`. Into an existing array, or an object read as one.
            var elements: [Node]
            switch node {
            case .array(let existing): elements = existing
            case .object(let members) where members.isEmpty: elements = []
            case .object:
                guard let list = node.list else { throw DecodingError(key: key, reason: "mixes appended and named members") }
                elements = list
            case .value: throw DecodingError(key: key, reason: "'\(segment)' is both a value and a list")
            }
            elements.append(try inserting(leaf, into: .object([]), path: rest, key: key))
            return .array(elements)
        }
        switch node {
        case .value:
            throw DecodingError(key: key, reason: "is both a value and an object")
        case .array(var elements):
            // `a[]=x&a[1]=y`: an index into what was appended.
            guard let index = Int(segment), index >= 0, index <= elements.count else {
                throw DecodingError(key: key, reason: "mixes appended and named members")
            }
            if index == elements.count {
                elements.append(try inserting(leaf, into: .object([]), path: rest, key: key))
            } else {
                elements[index] = try inserting(leaf, into: elements[index], path: rest, key: key)
            }
            return .array(elements)
        case .object(var members):
            if let position = members.firstIndex(where: { $0.key == segment }) {
                let child = members[position].node
                if rest.isEmpty {
                    guard case .value = child else { throw DecodingError(key: key, reason: "is both a value and an object") }
                    members[position].node = leaf  // a repeated key: the last value wins
                } else {
                    members[position].node = try inserting(leaf, into: child, path: rest, key: key)
                }
            } else {
                members.append(.init(key: segment, node: try inserting(leaf, into: .object([]), path: rest, key: key)))
            }
            return .object(members)
        }
    }

    private static func percentDecoded(_ raw: Substring) -> String {
        let spaced = raw.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
