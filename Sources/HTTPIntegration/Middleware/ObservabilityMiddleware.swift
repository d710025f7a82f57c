import HTTPTypes
import InterchangeCore
import Logging
import Metrics
import Resilience
import Synchronization
import Tracing

/// The outermost step: one span, one log line and one set of metrics per call, and every failure turned
/// into a single ``HTTPIntegrationError`` that says how many attempts were made.
///
/// Metrics (swift-metrics, so any backend; Prometheus in `interchange`):
/// - `interchange_http_client_requests_total{upstream, method, outcome}` — outcome is `2xx`…`5xx` or an error code;
/// - `interchange_http_client_request_duration_seconds{upstream, outcome}` — a timer (histogram in Prometheus);
/// - `interchange_http_client_retries_total{upstream}` (counted by the retry loop).
///
/// The span's context is what AsyncHTTPClient's own per-attempt spans hang from, and what it injects as the
/// W3C `traceparent` header.
struct ObservabilityMiddleware: ClientMiddleware {
    let tracer: (any Tracer)?
    let metrics: ClientMetrics

    func handle(_ request: ClientRequest, context: ClientContext, next: @escaping ClientNext) async throws -> ClientResponse {
        let redactor = context.resources.redaction
        let requestLine = RequestLine(method: request.method, url: request.url, redaction: redactor)
        let upstream = context.upstreamName
        let start = ContinuousClock.now
        guard let tracer else {
            return try await observe(request, requestLine: requestLine, upstream: upstream, start: start, span: nil, context: context, next: next)
        }
        return try await tracer.withSpan("HTTP \(request.method.rawValue)", ofKind: .client) { span in
            span.attributes["http.request.method"] = request.method.rawValue
            span.attributes["server.address"] = request.url.host ?? ""
            span.attributes["url.full"] = requestLine.url
            return try await observe(request, requestLine: requestLine, upstream: upstream, start: start, span: span, context: context, next: next)
        }
    }

    @inline(__always)  // one async frame fewer per call when there is no tracer
    private func observe(
        _ request: ClientRequest,
        requestLine: RequestLine,
        upstream: String,
        start: ContinuousClock.Instant,
        span: (any Span)?,
        context: ClientContext,
        next: ClientNext
    ) async throws -> ClientResponse {
        do {
            var response = try await next(request, context)
            response.attempts = max(response.attempts, context.attemptsSoFar)
            response.requestLine = requestLine
            metrics.record(
                upstream: upstream,
                hostID: context.resources.id,
                method: request.method,
                status: response.status.code,
                duration: ContinuousClock.now - start
            )
            span?.attributes["http.response.status_code"] = response.status.code
            span?.attributes["interchange.attempts"] = response.attempts
            if response.status.code >= 500 { span?.setStatus(SpanStatus(code: .error)) }
            context.logger.debug(
                "HTTP request finished",
                metadata: [
                    "request": "\(requestLine)", "status": "\(response.status.code)", "attempts": "\(response.attempts)",
                    "cache": "\(response.cacheStatus)", "duration": "\(ContinuousClock.now - start)",
                ]
            )
            return response
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let failure = Self.integrationError(error, requestLine: requestLine, attempts: context.attemptsSoFar)
            metrics.record(upstream: upstream, method: request.method, outcome: failure.code.metricLabel, duration: ContinuousClock.now - start)
            span?.recordError(failure)
            span?.attributes["interchange.attempts"] = failure.attempts
            span?.setStatus(SpanStatus(code: .error))
            context.logger.debug(
                "HTTP request failed",
                metadata: ["request": "\(requestLine)", "attempts": "\(failure.attempts)", "error": "\(failure.code)"]
            )
            throw failure
        }
    }

    static func integrationError(_ error: any Error, requestLine: RequestLine, attempts: Int) -> HTTPIntegrationError {
        switch error {
        case var failure as HTTPIntegrationError:
            failure.attempts = max(failure.attempts, attempts)
            return failure
        case let timeout as TimeoutError:
            return HTTPIntegrationError(
                code: .timeout,
                request: requestLine,
                attempts: attempts,
                underlyingError: timeout,
                reason: "no complete response within \(timeout.timeout)"
            )
        case let open as CircuitBreakerOpenError:
            return HTTPIntegrationError(
                code: .circuitOpen,
                request: requestLine,
                attempts: attempts,
                underlyingError: open,
                retryAfter: open.retryAfter
            )
        case let limited as RateLimitExceededError:
            return HTTPIntegrationError(
                code: .rateLimited,
                request: requestLine,
                attempts: attempts,
                underlyingError: limited,
                retryAfter: limited.retryAfter
            )
        case let full as BulkheadFullError:
            return HTTPIntegrationError(code: .bulkheadFull, request: requestLine, attempts: attempts, underlyingError: full)
        case let tooLarge as HTTPResponseTooLarge:
            return HTTPIntegrationError(
                code: .responseTooLarge,
                request: requestLine,
                attempts: attempts,
                underlyingError: tooLarge,
                reason: "\(tooLarge)"
            )
        default:
            return HTTPIntegrationError(code: .transport, request: requestLine, attempts: attempts, underlyingError: error)
        }
    }
}

extension HTTPIntegrationError.Code {
    var metricLabel: String {
        description.replacingOccurrences(of: " ", with: "_")
    }
}

/// Request counters and timers, created once per (upstream, method, outcome) rather than per request.
///
/// The hot path (a status outcome of a common method) finds its pair by a small integer key, without
/// building a label string.
final class ClientMetrics: Sendable {
    private let factory: any MetricsFactory
    private let cache = Mutex<[Int: (Counter, Metrics.Timer)]>([:])
    private let rare = Mutex<[String: (Counter, Metrics.Timer)]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    private static let commonMethods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .head, .options]

    /// Records a call that got a response with `status`.
    func record(upstream: String, hostID: Int, method: HTTPRequest.Method, status: Int, duration: Duration) {
        let statusClass = min(max(status / 100, 1), 5)
        guard let methodIndex = Self.commonMethods.firstIndex(of: method) else {
            return record(upstream: upstream, method: method, outcome: "\(statusClass)xx", duration: duration)
        }
        let key = (hostID << 8) | (methodIndex << 3) | statusClass
        let pair = cache.withLock { cache in
            if let existing = cache[key] { return existing }
            let created = makePair(upstream: upstream, method: method, outcome: "\(statusClass)xx")
            cache[key] = created
            return created
        }
        pair.0.increment()
        pair.1.recordNanoseconds(duration.nanosecondsClamped)
    }

    /// Records a call with any outcome label (errors, uncommon methods).
    func record(upstream: String, method: HTTPRequest.Method, outcome: String, duration: Duration) {
        let key = "\(upstream) \(method.rawValue) \(outcome)"
        let pair = rare.withLock { rare in
            if let existing = rare[key] { return existing }
            let created = makePair(upstream: upstream, method: method, outcome: outcome)
            rare[key] = created
            return created
        }
        pair.0.increment()
        pair.1.recordNanoseconds(duration.nanosecondsClamped)
    }

    private func makePair(upstream: String, method: HTTPRequest.Method, outcome: String) -> (Counter, Metrics.Timer) {
        (
            Counter(
                label: "interchange_http_client_requests_total",
                dimensions: [("upstream", upstream), ("method", method.rawValue), ("outcome", outcome)],
                factory: factory
            ),
            Metrics.Timer(
                label: "interchange_http_client_request_duration_seconds",
                dimensions: [("upstream", upstream), ("outcome", outcome)],
                factory: factory
            )
        )
    }
}
