import Foundation
import HTTPTypes
import InterchangeCore
import NIOCore
import Resilience
import Synchronization

/// A private, in-memory HTTP cache (RFC 9111) for a ``ResilientHTTPClient``.
///
/// - stores `200` responses to GET that carry a freshness lifetime (`Cache-Control: max-age`, or `Expires`)
///   or a validator (`ETag`, `Last-Modified`), unless `no-store`;
/// - serves fresh entries without contacting the origin;
/// - revalidates stale entries with `If-None-Match` / `If-Modified-Since` and reuses the body on `304`;
/// - when the origin fails (transport error, timeout, open circuit, 5xx), serves a stale entry within its
///   stale-if-error window (RFC 5861), marked ``CacheStatus/stale(age:cause:)``;
/// - honours `Vary`, never stores `Vary: *`, and drops entries a successful POST/PUT/PATCH/DELETE to the same URL invalidates;
/// - evicts least-recently-used entries beyond `maxEntries` or `maxBytes`.
///
/// ```swift
/// let client = try ResilientHTTPClient(configuration: .init(cache: HTTPCache(maxEntries: 500)))
/// ```
public final class HTTPCache: Sendable {
    struct Entry: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer
        var storedAt: Duration
        var initialAge: Duration
        var freshness: Duration
        var staleIfError: Duration?
        var mustRevalidate: Bool
        var varyValues: [String: String]
        var lastUsed: UInt64

        var etag: String? { headers[.eTag] }
        var lastModified: String? { headers[.lastModified] }
        var size: Int { body.readableBytes + headers.reduce(0) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count } }

        func age(now: Duration) -> Duration { initialAge + (now - storedAt) }
        func isFresh(now: Duration) -> Bool { age(now: now) < freshness }

        /// Whether this entry may stand in for a failed origin, given the client's default window.
        func isUsableOnError(now: Duration, defaultWindow: Duration?) -> Bool {
            guard !mustRevalidate, let window = staleIfError ?? defaultWindow else { return false }
            return age(now: now) <= freshness + window
        }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var tick: UInt64 = 0
    }

    public let maxEntries: Int
    public let maxBytes: Int
    /// The cache's own timeline for ages, so one cache can serve several clients.
    let clock: ErasedClock
    private let state = Mutex(State())

    /// - Parameter clock: measures entry ages; inject a manual clock in tests.
    /// - Throws: ``ConfigurationError`` naming `maxEntries` or `maxBytes` when not positive.
    public init(maxEntries: Int = 1000, maxBytes: Int = 64 * 1024 * 1024, clock: some Clock<Duration> = ContinuousClock()) throws {
        try ConfigurationError.require(maxEntries >= 1, field: "maxEntries", "must be at least 1", got: maxEntries)
        try ConfigurationError.require(maxBytes >= 1, field: "maxBytes", "must be at least 1", got: maxBytes)
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.clock = ErasedClock(clock)
    }

    /// Entries stored now.
    public var count: Int { state.withLock { $0.entries.count } }

    /// Drops every entry.
    public func removeAll() {
        state.withLock { $0 = State() }
    }

    static func key(for request: ClientRequest) -> String {
        request.url.absoluteString
    }

    func lookup(_ request: ClientRequest) -> Entry? {
        let key = Self.key(for: request)
        return state.withLock { state -> Entry? in
            guard var entry = state.entries[key] else { return nil }
            for (name, value) in entry.varyValues {
                let current = HTTPField.Name(name).flatMap { request.headerFields[$0] } ?? ""
                if current != value { return nil }
            }
            state.tick += 1
            entry.lastUsed = state.tick
            state.entries[key] = entry
            return entry
        }
    }

    /// Stores `response` if it is cacheable; returns whether it was stored.
    @discardableResult
    func store(_ response: ClientResponse, for request: ClientRequest, now: Duration, wallNow: Date) -> Bool {
        guard response.status == .ok else { return false }
        let control = CacheControl(response.headerFields[.cacheControl])
        guard !control.noStore, !CacheControl(request.headerFields[.cacheControl]).noStore else { return false }
        var varyValues: [String: String] = [:]
        if let vary = response.headerFields[.vary] {
            for name in vary.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !name.isEmpty {
                if name == "*" { return false }
                varyValues[name] = HTTPField.Name(name).flatMap { request.headerFields[$0] } ?? ""
            }
        }
        let dateHeader = response.headerFields[.date].flatMap(HTTPDate.parse)
        var freshness: Duration = .zero
        if !control.noCache {
            if let maxAge = control.maxAge {
                freshness = maxAge
            } else if let expires = response.headerFields[.expires].flatMap(HTTPDate.parse) {
                freshness = .fromSeconds(max(0, expires.timeIntervalSince(dateHeader ?? wallNow)))
            }
        }
        let hasValidator = response.headerFields[.eTag] != nil || response.headerFields[.lastModified] != nil
        guard freshness > .zero || hasValidator else { return false }
        let initialAge = response.headerFields[.age].flatMap { Int64($0) }.map { Duration.seconds(max(0, $0)) } ?? .zero
        let entry = Entry(
            status: response.status,
            headers: response.headerFields,
            body: response.body,
            storedAt: now,
            initialAge: initialAge,
            freshness: freshness,
            staleIfError: control.staleIfError,
            mustRevalidate: control.mustRevalidate,
            varyValues: varyValues,
            lastUsed: 0
        )
        return insert(entry, key: Self.key(for: request))
    }

    /// Replaces the stored headers after a `304` and restarts the entry's age.
    func refresh(_ entry: Entry, with notModified: ClientResponse, for request: ClientRequest, now: Duration) -> Entry {
        var updated = entry
        for field in notModified.headerFields where field.name != .contentLength && field.name != .contentType {
            updated.headers[field.name] = field.value
        }
        let control = CacheControl(updated.headers[.cacheControl])
        if let maxAge = control.maxAge { updated.freshness = maxAge }
        updated.staleIfError = control.staleIfError
        updated.storedAt = now
        updated.initialAge = .zero
        insert(updated, key: Self.key(for: request))
        return updated
    }

    func invalidate(_ request: ClientRequest) {
        let key = Self.key(for: request)
        state.withLock { state in
            if let removed = state.entries.removeValue(forKey: key) { state.bytes -= removed.size }
        }
    }

    @discardableResult
    private func insert(_ entry: Entry, key: String) -> Bool {
        guard entry.size <= maxBytes else { return false }
        state.withLock { state in
            state.tick += 1
            var entry = entry
            entry.lastUsed = state.tick
            if let old = state.entries.updateValue(entry, forKey: key) { state.bytes -= old.size }
            state.bytes += entry.size
            while state.entries.count > maxEntries || state.bytes > maxBytes {
                guard let victim = state.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { break }
                state.entries.removeValue(forKey: victim.key)
                state.bytes -= victim.value.size
            }
        }
        return true
    }
}
