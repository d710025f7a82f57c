import Foundation
import HTTPTypes
import Hummingbird
import InterchangeCore
import Logging
import NIOCore
import Persistence
import ServiceRuntime

/// Makes POST endpoints safe to retry, with Stripe's `Idempotency-Key` semantics, durable in the database.
///
/// A request carrying `Idempotency-Key` executes at most once per key and client; a retry with the same key and
/// the same request gets the first response again (status, the headers that matter, body) with
/// `Idempotent-Replayed: true`. The same key with a different request is `422`; while the first request with it is
/// still running, `409` with `Retry-After: 1`. A handler that answers 5xx or throws releases the key, so the retry
/// executes; any other answer (2xx, and 4xx as Stripe does) is stored. Keys are remembered for `retention`
/// (24 hours) from when their execution began; a request without the header passes through untouched. See
/// docs/idempotency.md for every rule and why.
///
/// ```swift
/// try await database.migrate(IdempotencyStore.migrations)
/// let orders = router.group("/shop/api/orders")
///     .add(middleware: try IdempotencyMiddleware(database: database) { request, _ in
///         request.headers[.authorization] ?? "anonymous"   // keys are per client
///     })
/// orders.post { request, context in … }
/// ```
///
/// Mount it inside `ProblemMiddleware` (which renders what handlers throw): the handler's errors pass through
/// this middleware, releasing the key, before they are rendered. Its own refusals are problem+json responses.
///
/// **Crashes.** The key is stored `started` before the handler runs. A process that dies before the response is
/// stored leaves that row behind; once it is older than `lockTimeout` the run is presumed dead and the next
/// request with the key executes again (until then it gets `409`). Keep handlers shorter than the lock timeout,
/// and make the effect itself safe to repeat after a crash (a database transaction that commits with its own
/// unique key) — this middleware guarantees one execution per key only for runs that finish.
public struct IdempotencyMiddleware<Context: RequestContext>: RouterMiddleware {
    /// What the middleware keeps and for how long.
    public struct Configuration: Sendable {
        /// The methods whose requests may carry a key; others pass through (`POST`).
        public var methods: Set<HTTPRequest.Method>
        /// How long a key is remembered from when its execution began (24 hours, as Stripe).
        public var retention: Duration
        /// How long a `started` key counts as running before it is presumed abandoned (60 seconds).
        public var lockTimeout: Duration
        /// The largest request body read to fingerprint it (1 MiB); a larger one is `413`.
        public var maxRequestBodySize: Int
        /// The largest response body stored (1 MiB). A larger response still reaches its client, but a replay
        /// answers a problem saying it was not kept, with the original status; the request is not executed again.
        public var maxStoredBodySize: Int
        /// Response headers stored and replayed besides `Content-Type` and `Location`. `Set-Cookie` is never stored.
        public var storedHeaders: [HTTPField.Name]
        /// Request headers that are part of what makes a request "the same" (`Content-Type`), besides the method,
        /// path, query and body.
        public var fingerprintHeaders: [HTTPField.Name]
        /// Completed responses kept in memory so a retry on this process is answered without a query (16 MiB of
        /// stored bodies; 0 turns it off). Safe with several processes: a completed record never changes before it expires.
        public var replayCacheBytes: Int

        public init(
            methods: Set<HTTPRequest.Method> = [.post],
            retention: Duration = .seconds(24 * 60 * 60),
            lockTimeout: Duration = .seconds(60),
            maxRequestBodySize: Int = 1024 * 1024,
            maxStoredBodySize: Int = 1024 * 1024,
            storedHeaders: [HTTPField.Name] = [],
            fingerprintHeaders: [HTTPField.Name] = [.contentType],
            replayCacheBytes: Int = 16 * 1024 * 1024
        ) {
            self.methods = methods
            self.retention = retention
            self.lockTimeout = lockTimeout
            self.maxRequestBodySize = maxRequestBodySize
            self.maxStoredBodySize = maxStoredBodySize
            self.storedHeaders = storedHeaders
            self.fingerprintHeaders = fingerprintHeaders
            self.replayCacheBytes = replayCacheBytes
        }

        /// - Throws: ``ConfigurationError`` naming the field (`idempotency.lockTimeout`, …) of a value that cannot work.
        public func validate() throws {
            func fail(_ field: String, _ reason: String) -> ConfigurationError {
                ConfigurationError(field: "idempotency.\(field)", reason: reason)
            }
            guard !methods.isEmpty else { throw fail("methods", "must name at least one method") }
            guard retention > .zero else { throw fail("retention", "must be positive (got \(retention))") }
            guard lockTimeout > .zero else { throw fail("lockTimeout", "must be positive (got \(lockTimeout))") }
            guard lockTimeout < retention else {
                throw fail("lockTimeout", "must be shorter than the retention \(retention) (got \(lockTimeout))")
            }
            guard maxRequestBodySize > 0 else { throw fail("maxRequestBodySize", "must be positive (got \(maxRequestBodySize))") }
            guard maxStoredBodySize > 0 else { throw fail("maxStoredBodySize", "must be positive (got \(maxStoredBodySize))") }
            guard replayCacheBytes >= 0 else { throw fail("replayCacheBytes", "must not be negative (got \(replayCacheBytes))") }
        }
    }

    /// The longest key accepted (Stripe's limit).
    public static var maxKeyLength: Int { 255 }

    public let configuration: Configuration
    /// Where keys are kept; use it to purge expired keys (``IdempotencyKeyPurger``).
    public let store: IdempotencyStore
    private let scope: @Sendable (Request, Context) throws -> String
    private let storedHeaderNames: [HTTPField.Name]

    /// - Parameters:
    ///   - database: where keys live; migrate it with ``IdempotencyStore/migrations`` first.
    ///   - now: the clock that stamps and ages keys; tests pass a manual one.
    ///   - scope: the client a request comes from (an API key, an account id): keys of different scopes never
    ///     meet. One scope for everyone by default. A thrown error (say, a missing credential) is the answer.
    /// - Throws: ``ConfigurationError`` for a configuration that cannot work.
    public init(
        database: Database,
        configuration: Configuration = .init(),
        now: @escaping @Sendable () -> Date = { Date() },
        scope: @escaping @Sendable (Request, Context) throws -> String = { _, _ in "default" }
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.store = IdempotencyStore(database: database, replayCacheBytes: configuration.replayCacheBytes, now: now)
        self.scope = scope
        var names: [HTTPField.Name] = [.contentType, .location]
        for name in configuration.storedHeaders where name != .setCookie && !names.contains(name) { names.append(name) }
        self.storedHeaderNames = names
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard configuration.methods.contains(request.method) else { return try await next(request, context) }
        let values = request.headers[values: .idempotencyKey]
        guard !values.isEmpty else { return try await next(request, context) }
        guard values.count == 1, let key = values.first, Self.isValidKey(key) else {
            return try Self.invalidKey(values).response(from: request, context: context)
        }
        let scope = try scope(request, context)
        var request = request
        let body = try await request.collectBody(upTo: configuration.maxRequestBodySize)
        let fingerprint = IdempotencyFingerprint.of(request, body: body, headers: configuration.fingerprintHeaders)
        let executionID = RandomIdentifier.make(prefix: "idx", length: 20)

        // The common cases first, each one query or none: a retry of a completed key this process has seen is
        // answered from memory; a new key is claimed straight away (group-committed with concurrent claims).
        let arrival = store.now()
        if let cached = store.cachedRecord(scope: scope, key: key) {
            var machine = IdempotencyKeyStateMachine(record: cached, retention: configuration.retention, lockTimeout: configuration.lockTimeout)
            switch machine.requestArrived(fingerprint: fingerprint, executionID: executionID, at: arrival) {
            case .replay(let stored):
                context.logger.debug("idempotent replay", metadata: ["idempotency_key": "\(key)"])
                return Self.replay(stored)
            case .rejectMismatch:
                return try Self.reused(key: key).response(from: request, context: context)
            case .rejectInProgress, .execute:
                break  // expired since: the database decides who executes, below
            }
        } else if try await store.insertStarted(scope: scope, key: key, fingerprint: fingerprint, executionID: executionID, at: arrival) {
            var machine = IdempotencyKeyStateMachine(record: nil, retention: configuration.retention, lockTimeout: configuration.lockTimeout)
            _ = machine.requestArrived(fingerprint: fingerprint, executionID: executionID, at: arrival)
            return try await execute(
                request,
                context: context,
                next: next,
                machine: &machine,
                run: Run(scope: scope, key: key, fingerprint: fingerprint, executionID: executionID, startedAt: arrival)
            )
        }

        // Otherwise each round reads the record, asks the machine, and tries the atomic claim it calls for; a round
        // is lost only when another request changed the record in between, so a few rounds always settle it.
        for _ in 0..<4 {
            let now = store.now()
            let record = try await store.find(scope: scope, key: key)
            var machine = IdempotencyKeyStateMachine(record: record, retention: configuration.retention, lockTimeout: configuration.lockTimeout)
            switch machine.requestArrived(fingerprint: fingerprint, executionID: executionID, at: now) {
            case .replay(let stored):
                context.logger.debug("idempotent replay", metadata: ["idempotency_key": "\(key)"])
                return Self.replay(stored)
            case .rejectInProgress(let retryAfter):
                return try Self.inProgress(key: key, retryAfter: retryAfter).response(from: request, context: context)
            case .rejectMismatch:
                return try Self.reused(key: key).response(from: request, context: context)
            case .execute(let reason):
                let claimed: Bool
                switch reason {
                case .firstUse:
                    claimed = try await store.insertStarted(scope: scope, key: key, fingerprint: fingerprint, executionID: executionID, at: now)
                case .expired(let previous), .abandoned(let previous):
                    if case .abandoned = reason {
                        context.logger.debug("idempotency key abandoned by its first run; executing again", metadata: ["idempotency_key": "\(key)"])
                    }
                    claimed = try await store.replaceStarted(
                        scope: scope,
                        key: key,
                        previousExecutionID: previous,
                        fingerprint: fingerprint,
                        executionID: executionID,
                        at: now
                    )
                }
                guard claimed else { continue }
                return try await execute(
                    request,
                    context: context,
                    next: next,
                    machine: &machine,
                    run: Run(scope: scope, key: key, fingerprint: fingerprint, executionID: executionID, startedAt: now)
                )
            }
        }
        return try Self.inProgress(key: key, retryAfter: .seconds(1)).response(from: request, context: context)
    }

    /// The run that holds a key: what its completion writes.
    private struct Run {
        var scope, key, fingerprint, executionID: String
        var startedAt: Date
    }

    /// Runs the handler for a claimed key, then stores its response or releases the key.
    private func execute(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response,
        machine: inout IdempotencyKeyStateMachine,
        run: Run
    ) async throws -> Response {
        let (scope, key, executionID) = (run.scope, run.key, run.executionID)
        let response: Response
        let body: ByteBuffer
        do {
            let answered = try await next(request, context)
            let collector = BodyCollector()
            try await answered.body.write(collector)
            response = answered
            body = collector.buffer
        } catch {
            _ = machine.handlerFinished(.threw)
            await releaseLoggingFailure(scope: scope, key: key, executionID: executionID, context: context)
            throw error
        }
        let stored = storable(response, body: body)
        switch machine.handlerFinished(.responded(stored)) {
        case .store(let stored):
            do {
                let kept = try await store.complete(
                    scope: scope,
                    key: key,
                    fingerprint: run.fingerprint,
                    executionID: executionID,
                    startedAt: run.startedAt,
                    response: stored,
                    at: store.now()
                )
                if !kept {
                    context.logger.debug("idempotency key was taken over before its first run finished", metadata: ["idempotency_key": "\(key)"])
                }
            } catch {
                // The effect happened; the client gets its answer. The record stays started, so the key is
                // refused with 409 until the lock timeout and then executes again: logged, as it is worth knowing.
                context.logger.warning(
                    "could not store an idempotent response",
                    metadata: ["idempotency_key": "\(key)", "error": "\(String(reflecting: error))"]
                )
            }
        case .release:
            await releaseLoggingFailure(scope: scope, key: key, executionID: executionID, context: context)
        }
        return Response(status: response.status, headers: response.headers, body: ResponseBody(byteBuffer: body))
    }

    private func releaseLoggingFailure(scope: String, key: String, executionID: String, context: Context) async {
        do {
            try await store.release(scope: scope, key: key, executionID: executionID)
        } catch {
            // The started record then blocks the key until the lock timeout, after which it executes again.
            context.logger.warning(
                "could not release an idempotency key",
                metadata: ["idempotency_key": "\(key)", "error": "\(String(reflecting: error))"]
            )
        }
    }

    /// What is kept of a response: status, the chosen headers, body — or, for a body over the limit, a problem
    /// saying so with the original status.
    private func storable(_ response: Response, body: ByteBuffer) -> StoredResponse {
        guard body.readableBytes <= configuration.maxStoredBodySize else {
            let problem = ProblemDetails(
                status: response.status.code,
                title: "Response not kept",
                detail: "the request with this Idempotency-Key was executed and answered \(response.status.code), but its "
                    + "\(body.readableBytes)-byte response exceeded the \(configuration.maxStoredBodySize)-byte limit of what "
                    + "is kept; it is not executed again",
                type: ProblemError.typeBase + "idempotent-response-not-kept",
                extensions: ["header": .string("Idempotency-Key")]
            )
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let bytes = (try? encoder.encode(problem)).map(Array.init) ?? []
            return StoredResponse(
                status: response.status.code,
                headers: [StoredResponse.Header(name: "Content-Type", value: ProblemDetails.mediaType)],
                body: bytes
            )
        }
        var headers: [StoredResponse.Header] = []
        for name in storedHeaderNames {
            for value in response.headers[values: name] { headers.append(StoredResponse.Header(name: name.rawName, value: value)) }
        }
        return StoredResponse(status: response.status.code, headers: headers, body: Array(body.readableBytesView))
    }

    private static func replay(_ stored: StoredResponse) -> Response {
        var headers = HTTPFields()
        for header in stored.headers {
            if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
        }
        headers[.idempotentReplayed] = "true"
        return Response(
            status: HTTPResponse.Status(code: stored.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: stored.body))
        )
    }

    /// 1 to 255 printable ASCII characters.
    static func isValidKey(_ key: String) -> Bool {
        let bytes = key.utf8
        guard !bytes.isEmpty, bytes.count <= maxKeyLength else { return false }
        return bytes.allSatisfy { (0x20...0x7E).contains($0) }
    }

    private static func invalidKey(_ values: [String]) -> ProblemError {
        let detail: String
        if values.count > 1 {
            detail = "Idempotency-Key: must be sent once (got \(values.count) values)"
        } else if let value = values.first, value.utf8.count > maxKeyLength {
            detail = "Idempotency-Key: must be at most \(maxKeyLength) characters (got \(value.utf8.count))"
        } else if values.first?.isEmpty ?? true {
            detail = "Idempotency-Key: must not be empty"
        } else {
            detail = "Idempotency-Key: must be printable ASCII characters only"
        }
        return ProblemError(
            ProblemDetails(
                status: 400,
                title: "Invalid Idempotency-Key",
                detail: detail,
                type: ProblemError.typeBase + "invalid-idempotency-key",
                extensions: ["header": .string("Idempotency-Key")]
            )
        )
    }

    private static func reused(key: String) -> ProblemError {
        ProblemError(
            ProblemDetails(
                status: 422,
                title: "Idempotency-Key reused",
                detail: "Idempotency-Key: '\(key)' was already used for a different request (method, path, headers or body "
                    + "differ); send a new key for a new request",
                type: ProblemError.typeBase + "idempotency-key-reused",
                extensions: ["header": .string("Idempotency-Key")]
            )
        )
    }

    private static func inProgress(key: String, retryAfter: Duration) -> ProblemError {
        let seconds = retryAfter.wholeSecondsRoundedUp(minimum: 1)
        return ProblemError(
            ProblemDetails(
                status: 409,
                title: "Idempotency-Key in use",
                detail: "Idempotency-Key: a request with '\(key)' is still being processed; retry after \(seconds) s to get its response",
                type: ProblemError.typeBase + "idempotency-key-in-use",
                extensions: ["header": .string("Idempotency-Key"), "retryAfterSeconds": .number(Double(seconds))]
            ),
            headers: [.retryAfter: "\(seconds)"]
        )
    }
}

extension HTTPField.Name {
    /// `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header; Stripe's header).
    public static var idempotencyKey: Self { .init("Idempotency-Key")! }
    /// `Idempotent-Replayed: true` marks a replayed response, as Stripe marks it.
    public static var idempotentReplayed: Self { .init("Idempotent-Replayed")! }
}

/// Gathers a response body in memory. A class, because `ResponseBody.write` consumes its writer.
private final class BodyCollector: ResponseBodyWriter {
    var buffer = ByteBuffer()

    func write(_ part: ByteBuffer) async throws {
        var part = part
        buffer.writeBuffer(&part)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
