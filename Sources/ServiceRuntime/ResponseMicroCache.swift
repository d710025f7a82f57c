import HTTPTypes
import Hummingbird
import InterchangeCore
import Metrics
import NIOCore
import Synchronization

/// Which answers a component lets ``ResponseMicroCache`` replay, and for how long.
public struct MicroCachePolicy: Sendable {
    /// `GET` paths starting with one of these are cached.
    public var pathPrefixes: [String]
    /// How long a rendered answer is replayed before it is rendered again.
    public var ttl: Duration
    /// The clock that ages entries; tests pass a manual one.
    public var clock: any Clock<Duration> & Sendable

    public init(pathPrefixes: [String], ttl: Duration = .seconds(1), clock: any Clock<Duration> & Sendable = ContinuousClock()) {
        self.pathPrefixes = pathPrefixes
        self.ttl = ttl
        self.clock = clock
    }
}

/// Keeps successful GET responses for a moment and replays them: "micro-caching", as nginx does in front of an app.
///
/// For a hot read endpoint whose answer changes slowly (a cached forecast), serialising the same JSON for every
/// request is most of the work. With a one-second TTL, each distinct URL is rendered at most once a second,
/// whatever the request rate; clients see data at most a second older than they otherwise would.
///
/// Only `200` responses to `GET` requests without `Authorization` or `Cookie` are stored, keyed by path and
/// query; responses that set cookies, carry `Vary` or `Cache-Control: no-store`/`private`, or exceed
/// `maxBodySize` are passed through. At most `maxEntries` answers and `maxTotalBytes` of bodies are kept (the
/// oldest goes first). Replayed responses carry an `Age` header.
///
/// Added first, ahead of tracing and logging, a replay costs about as much as a hello-world route. With
/// `recordsRequestMetrics`, replays are still counted under Hummingbird's `MetricsMiddleware` names
/// (`hb.requests`, `http.server.request.duration`, same dimensions), so request rates on a dashboard stay whole.
///
/// ```swift
/// router.add(middleware: ResponseMicroCache(MicroCachePolicy(pathPrefixes: ["/api/weather"]), recordsRequestMetrics: true))
/// ```
public struct ResponseMicroCache<Context: RequestContext>: RouterMiddleware {
    private struct Entry: Sendable {
        var status: HTTPResponse.Status
        /// The response's headers with `Age: 0`, ready to replay during the first second.
        var headers: HTTPFields
        var body: ByteBuffer
        /// Time since the cache was created, on its clock.
        var storedAt: Duration
        var metrics: ReplayMetrics?
    }

    /// Handles for counting replays as `MetricsMiddleware` counts requests, made once per entry.
    private struct ReplayMetrics: Sendable {
        let requests: Counter
        let duration: Timer

        init(route: String, method: HTTPRequest.Method, status: HTTPResponse.Status) {
            let dimensions = [
                ("http.route", route), ("http.request.method", method.rawValue), ("http.response.status_code", String(status.code)),
            ]
            requests = Counter(label: "hb.requests", dimensions: dimensions)
            duration = Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
        }
    }

    private struct Entries {
        var byKey: [String: Entry] = [:]
        var totalBytes = 0
    }

    private final class Storage: Sendable {
        let entries = Mutex(Entries())
    }

    public let pathPrefixes: [String]
    public let ttl: Duration
    public let maxEntries: Int
    public let maxBodySize: Int
    public let maxTotalBytes: Int
    public let recordsRequestMetrics: Bool
    private let storage = Storage()
    private let elapsed: @Sendable () -> Duration

    /// - Parameters:
    ///   - clock: the clock that ages entries; tests pass a manual one.
    ///   - recordsRequestMetrics: count replays as Hummingbird's `MetricsMiddleware` would (use when this
    ///     middleware runs ahead of it).
    public init(
        pathPrefixes: [String],
        ttl: Duration = .seconds(1),
        maxEntries: Int = 1000,
        maxBodySize: Int = 256 * 1024,
        maxTotalBytes: Int = 16 * 1024 * 1024,
        recordsRequestMetrics: Bool = false,
        clock: any Clock<Duration> & Sendable = ContinuousClock()
    ) {
        precondition(ttl > .zero && maxEntries > 0 && maxBodySize > 0 && maxTotalBytes > 0, "ResponseMicroCache limits must be positive")
        self.pathPrefixes = pathPrefixes
        self.ttl = ttl
        self.maxEntries = maxEntries
        self.maxBodySize = maxBodySize
        self.maxTotalBytes = maxTotalBytes
        self.recordsRequestMetrics = recordsRequestMetrics
        self.elapsed = Self.elapsedFunction(clock)
    }

    public init(_ policy: MicroCachePolicy, recordsRequestMetrics: Bool = false) {
        self.init(pathPrefixes: policy.pathPrefixes, ttl: policy.ttl, recordsRequestMetrics: recordsRequestMetrics, clock: policy.clock)
    }

    private static func elapsedFunction<C: Clock<Duration> & Sendable>(_ clock: C) -> @Sendable () -> Duration {
        let origin = clock.now
        return { origin.duration(to: clock.now) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get, isCached(request.uri.path), request.headers[.authorization] == nil, request.headers[.cookie] == nil
        else {
            return try await next(request, context)
        }
        let key = request.uri.description
        let now = elapsed()
        if let entry = storage.entries.withLock({ $0.byKey[key] }) {
            let age = now - entry.storedAt
            if age < ttl {
                return replay(entry, age: age)
            }
        }
        let response = try await next(request, context)
        guard Self.isStorable(response) else { return response }
        // An answer that announces more than can be kept streams through untouched rather than being gathered first.
        if let length = response.headers[.contentLength].flatMap({ Int($0) }), length > min(maxBodySize, maxTotalBytes) {
            return response
        }
        // Render the body once, keep it, and answer with the same bytes.
        let collector = Collector()
        try await response.body.write(collector)
        let body = collector.buffer
        let rendered = Response(status: response.status, headers: response.headers, body: ResponseBody(byteBuffer: body))
        guard body.readableBytes <= min(maxBodySize, maxTotalBytes) else { return rendered }
        var headers = response.headers
        headers[.age] = "0"
        let metrics =
            recordsRequestMetrics
            ? ReplayMetrics(route: context.endpointPath ?? request.uri.path, method: request.method, status: response.status) : nil
        let entry = Entry(status: response.status, headers: headers, body: body, storedAt: now, metrics: metrics)
        storage.entries.withLock { entries in
            if let replaced = entries.byKey.removeValue(forKey: key) { entries.totalBytes -= replaced.body.readableBytes }
            while !entries.byKey.isEmpty,
                entries.byKey.count >= maxEntries || entries.totalBytes + body.readableBytes > maxTotalBytes,
                let oldest = entries.byKey.min(by: { $0.value.storedAt < $1.value.storedAt })?.key
            {
                entries.totalBytes -= entries.byKey.removeValue(forKey: oldest)?.body.readableBytes ?? 0
            }
            entries.byKey[key] = entry
            entries.totalBytes += body.readableBytes
        }
        return rendered
    }

    private func isCached(_ path: String) -> Bool {
        for prefix in pathPrefixes where path.hasPrefix(prefix) { return true }
        return false
    }

    private func replay(_ entry: Entry, age: Duration) -> Response {
        let start = elapsed()
        var headers = entry.headers
        let seconds = age.components.seconds
        if seconds > 0 { headers[.age] = String(seconds) }
        let response = Response(status: entry.status, headers: headers, body: ResponseBody(byteBuffer: entry.body))
        if let metrics = entry.metrics {
            metrics.requests.increment()
            metrics.duration.recordNanoseconds((elapsed() - start).nanosecondsClamped)
        }
        return response
    }

    private static func isStorable(_ response: Response) -> Bool {
        guard response.status == .ok, response.headers[.setCookie] == nil, response.headers[.vary] == nil else {
            return false
        }
        if let cacheControl = response.headers[.cacheControl]?.lowercased(),
            cacheControl.contains("no-store") || cacheControl.contains("private")
        {
            return false
        }
        return true
    }

    /// Gathers a response body in memory. A class, because `ResponseBody.write` consumes its writer.
    private final class Collector: ResponseBodyWriter {
        var buffer = ByteBuffer()

        func write(_ part: ByteBuffer) async throws {
            var part = part
            buffer.writeBuffer(&part)
        }

        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
