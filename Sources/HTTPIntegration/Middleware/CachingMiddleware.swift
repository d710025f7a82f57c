import Foundation
import HTTPTypes
import Resilience

/// Answers from the ``HTTPCache`` when it can, revalidates when it must, and stands in with a stale copy
/// when the origin fails. Runs outside the resilience policies, so a stale copy is served only after the
/// retries (or the open circuit) have given up.
struct CachingMiddleware: ClientMiddleware {
    let cache: HTTPCache
    let now: @Sendable () -> Date

    func handle(_ request: ClientRequest, context: ClientContext, next: @escaping ClientNext) async throws -> ClientResponse {
        let clock = cache.clock
        guard request.method == .get, request.options.cache != .bypass, !hasOwnConditionals(request) else {
            let response = try await next(request, context)
            if [.post, .put, .patch, .delete].contains(request.method), response.isSuccess || response.status.kind == .redirection {
                cache.invalidate(request)  // RFC 9111 §4.4
            }
            return response
        }
        let entry = request.options.cache == .useCache ? cache.lookup(request) : nil
        let startedAt = clock.now
        if let entry, entry.isFresh(now: startedAt), !CacheControl(request.headerFields[.cacheControl]).noCache {
            return response(
                from: entry,
                request: request,
                context: context,
                status: .hit(age: entry.age(now: startedAt)),
                attempts: 0,
                now: startedAt
            )
        }
        var conditional = request
        if let entry {
            if let etag = entry.etag { conditional.headerFields[.ifNoneMatch] = etag }
            if let lastModified = entry.lastModified { conditional.headerFields[.ifModifiedSince] = lastModified }
        }
        let staleWindow = context.policy.staleIfError
        let fetched: ClientResponse
        do {
            fetched = try await next(conditional, context)
        } catch let error where !(error is CancellationError) {
            let failedAt = clock.now
            if let entry, entry.isUsableOnError(now: failedAt, defaultWindow: staleWindow) {
                let requestLine = RequestLine(method: request.method, url: request.url.absoluteString)
                let cause = ObservabilityMiddleware.integrationError(error, requestLine: requestLine, attempts: 0).code.description
                context.logger.debug("serving stale response after error", metadata: ["url": "\(request.url.host ?? "")", "cause": "\(cause)"])
                return response(
                    from: entry,
                    request: request,
                    context: context,
                    status: .stale(age: entry.age(now: failedAt), cause: cause),
                    attempts: context.attemptsSoFar,
                    now: failedAt
                )
            }
            throw error
        }
        let receivedAt = clock.now
        if fetched.status == .notModified, let entry {
            let refreshed = cache.refresh(entry, with: fetched, for: request, now: receivedAt)
            return response(from: refreshed, request: request, context: context, status: .revalidated, attempts: fetched.attempts, now: receivedAt)
        }
        if fetched.status.code >= 500, let entry, entry.isUsableOnError(now: receivedAt, defaultWindow: staleWindow) {
            return response(
                from: entry,
                request: request,
                context: context,
                status: .stale(age: entry.age(now: receivedAt), cause: "origin answered \(fetched.status.code)"),
                attempts: fetched.attempts,
                now: receivedAt
            )
        }
        var result = fetched
        result.cacheStatus = cache.store(fetched, for: request, now: receivedAt, wallNow: now()) ? .miss : .notCached
        return result
    }

    private func hasOwnConditionals(_ request: ClientRequest) -> Bool {
        request.headerFields[.ifNoneMatch] != nil || request.headerFields[.ifModifiedSince] != nil
    }

    private func response(
        from entry: HTTPCache.Entry,
        request: ClientRequest,
        context: ClientContext,
        status: CacheStatus,
        attempts: Int,
        now: Duration
    ) -> ClientResponse {
        var headers = entry.headers
        headers[.age] = "\(entry.age(now: now).components.seconds)"
        return ClientResponse(
            status: entry.status,
            headerFields: headers,
            body: entry.body,
            cacheStatus: status,
            attempts: attempts,
            requestLine: RequestLine(method: request.method, url: request.url, redaction: context.resources.redaction)
        )
    }
}
