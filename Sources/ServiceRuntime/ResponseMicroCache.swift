import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Keeps successful GET responses for a moment and replays them: "micro-caching".
///
/// For a hot read endpoint whose answer changes slowly (a cached forecast), serialising the same JSON for every
/// request is most of the work. With a one-second TTL, each distinct URL is rendered at most once a second,
/// whatever the request rate; clients see data at most a second older than they otherwise would.
///
/// Only `200` responses to `GET` requests without `Authorization` or `Cookie` are stored, keyed by path and
/// query; responses that set cookies, carry `Vary` or `Cache-Control: no-store`/`private`, or exceed
/// `maxBodySize` are passed through. At most `maxEntries` are kept (the oldest goes first). Replayed responses
/// carry an `Age` header.
///
/// ```swift
/// router.add(middleware: ResponseMicroCache(pathPrefixes: ["/api/weather", "/api/repos"], ttl: .seconds(1)))
/// ```
public struct ResponseMicroCache<Context: RequestContext>: RouterMiddleware {
    private struct Entry: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer
        /// Time since the cache was created, on its clock.
        var storedAt: Duration
    }

    private final class Storage: Sendable {
        let entries = Mutex<[String: Entry]>([:])
    }

    public let pathPrefixes: [String]
    public let ttl: Duration
    public let maxEntries: Int
    public let maxBodySize: Int
    private let storage = Storage()
    private let elapsed: @Sendable () -> Duration

    /// - Parameter clock: the clock that ages entries; tests pass a manual one.
    public init(
        pathPrefixes: [String],
        ttl: Duration = .seconds(1),
        maxEntries: Int = 1000,
        maxBodySize: Int = 256 * 1024,
        clock: some Clock<Duration> & Sendable = ContinuousClock()
    ) {
        precondition(ttl > .zero && maxEntries > 0 && maxBodySize > 0, "ResponseMicroCache limits must be positive")
        self.pathPrefixes = pathPrefixes
        self.ttl = ttl
        self.maxEntries = maxEntries
        self.maxBodySize = maxBodySize
        self.elapsed = Self.elapsedFunction(clock)
    }

    private static func elapsedFunction<C: Clock<Duration> & Sendable>(_ clock: C) -> @Sendable () -> Duration {
        let origin = clock.now
        return { origin.duration(to: clock.now) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard request.method == .get, request.headers[.authorization] == nil, request.headers[.cookie] == nil,
            pathPrefixes.contains(where: { path.hasPrefix($0) })
        else {
            return try await next(request, context)
        }
        let key = request.uri.description
        let now = elapsed()
        if let entry = storage.entries.withLock({ $0[key] }) {
            let age = now - entry.storedAt
            if age < ttl {
                var headers = entry.headers
                headers[.age] = String(age.components.seconds)
                return Response(status: entry.status, headers: headers, body: ResponseBody(byteBuffer: entry.body))
            }
        }
        let response = try await next(request, context)
        guard Self.isStorable(response) else { return response }
        // Render the body once, keep it, and answer with the same bytes.
        let collector = Collector()
        try await response.body.write(collector)
        let body = collector.buffer
        let rendered = Response(status: response.status, headers: response.headers, body: ResponseBody(byteBuffer: body))
        guard body.readableBytes <= maxBodySize else { return rendered }
        let entry = Entry(status: response.status, headers: response.headers, body: body, storedAt: now)
        storage.entries.withLock { entries in
            if entries[key] == nil, entries.count >= maxEntries,
                let oldest = entries.min(by: { $0.value.storedAt < $1.value.storedAt })?.key
            {
                entries.removeValue(forKey: oldest)
            }
            entries[key] = entry
        }
        return rendered
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
