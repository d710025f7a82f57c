import Foundation
import HTTPTypes
import NIOCore
import Synchronization

/// proxy-cache's memory: whole responses by cache key, bounded in bytes, the least recently used evicted first.
/// Every operation is O(1) under one lock (a dictionary plus a doubly linked list threaded through it by key).
final class ResponseCache: Sendable {
    struct Entry: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: ByteBuffer
        let storedAt: Date
        /// Seconds the entry is fresh.
        let ttl: Double
        /// When it is forgotten (`storage_ttl`, or its freshness).
        let expires: Date

        /// What it costs the bound: body, header fields, and a little per entry.
        var bytes: Int { body.readableBytes + headers.reduce(64) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 4 } }
    }

    private struct Node {
        var entry: Entry
        var bytes: Int
        var newer: String?
        var older: String?
    }

    private struct State {
        var nodes: [String: Node] = [:]
        var newest: String?
        var oldest: String?
        var bytes = 0

        mutating func unlink(_ key: String) -> Node? {
            guard let node = nodes.removeValue(forKey: key) else { return nil }
            if let newer = node.newer { nodes[newer]?.older = node.older } else { newest = node.older }
            if let older = node.older { nodes[older]?.newer = node.newer } else { oldest = node.newer }
            bytes -= node.bytes
            return node
        }

        mutating func linkNewest(_ key: String, _ node: Node) {
            var node = node
            node.newer = nil
            node.older = newest
            if let newest { nodes[newest]?.newer = key }
            newest = key
            if oldest == nil { oldest = key }
            nodes[key] = node
            bytes += node.bytes
        }
    }

    let maxBytes: Int
    private let state = Mutex(State())

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    /// The entry under `key` unless it has expired (then it is dropped), marked as just used.
    func entry(_ key: String, at now: Date) -> Entry? {
        state.withLock { state in
            guard let node = state.unlink(key) else { return nil }
            guard node.entry.expires > now else { return nil }
            state.linkNewest(key, node)
            return node.entry
        }
    }

    /// Stores `entry` under `key` (replacing any), evicting the least recently used until it fits. An entry larger
    /// than the whole bound is not stored.
    func store(_ entry: Entry, under key: String) {
        let bytes = entry.bytes + key.utf8.count
        guard bytes <= maxBytes else { return }
        state.withLock { state in
            _ = state.unlink(key)
            while state.bytes + bytes > maxBytes, let oldest = state.oldest { _ = state.unlink(oldest) }
            state.linkNewest(key, Node(entry: entry, bytes: bytes))
        }
    }

    /// Entries held, and the bytes they count for.
    var usage: (entries: Int, bytes: Int) { state.withLock { ($0.nodes.count, $0.bytes) } }
}
