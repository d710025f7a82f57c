import Foundation
import HTTPTypes
import Resilience

/// Applies the host's policies around the rest of the pipeline, in the order Polly and Resilience4j advise:
/// total timeout → retry → circuit breaker → rate limiter → bulkhead → attempt timeout.
///
/// Retries happen only for requests that are safe to repeat (``ClientRequest/isRetrySafe``), on transport
/// errors, attempt timeouts and the policy's retryable statuses; `Retry-After` on 429 and 503 sets the delay.
/// The breaker counts transport errors, timeouts and 5xx responses as failures, not 4xx.
///
/// Timeouts are deadlines on the client's clock, handed to AsyncHTTPClient as each attempt's timeout
/// (the attempt's own limit, or what remains of the total, whichever is sooner). A retry whose backoff would
/// end past the total deadline is not started; the caller gets the last real outcome. This costs no task or
/// timer per request, which the general-purpose `Timeout` policy (a racing child task) would.
///
/// One attempt is a ``GuardedAttempt`` (Resilience): a straight-line function over the policies' permit APIs
/// rather than nested `execute` closures, shared with every other policy user so they count outcomes alike.
struct ResilienceMiddleware: ClientMiddleware {
    let clock: AnyClock
    let now: @Sendable () -> Date

    /// Whether `policy` uses any of this step's policies (retries, a breaker, a limiter, a bulkhead, timeouts).
    /// Requests that override timeouts or attempts get this step whatever their host's policy.
    static func isNeeded(for policy: HostPolicy) -> Bool {
        policy.retry.maxAttempts > 1 || policy.circuitBreaker != nil || policy.rateLimit != nil || policy.bulkhead != nil
            || policy.attemptTimeout != nil || policy.totalTimeout != nil
    }

    /// The retry predicate for requests that are safe to repeat, built once per host.
    static func predicate(for policy: HostPolicy, now: @escaping @Sendable () -> Date) -> RetryPredicate<ClientResponse> {
        let retryableStatuses = policy.retry.retryableStatuses
        return RetryPredicate<ClientResponse>(
            onError: { error in
                error is HTTPResponseTooLarge ? .doNotRetry : RetryPredicate<ClientResponse>.defaultErrorDecision(error)
            },
            onResult: { response in
                let code = response.status.code
                guard retryableStatuses.contains(code) else { return .doNotRetry }
                if code == 429 || code == 503, let delay = RetryAfter.parse(response.field(.retryAfter), now: now()) {
                    return .retryAfter(delay)
                }
                return .retry
            }
        )
    }

    func handle(_ request: ClientRequest, context: ClientContext, next: @escaping ClientNext) async throws -> ClientResponse {
        let resources = context.resources
        // Read the two fields straight from the host's resources rather than copying its whole policy.
        let attemptTimeout = request.options.attemptTimeout ?? resources.policy.attemptTimeout
        let totalTimeout = request.options.totalTimeout ?? resources.policy.totalTimeout
        let total = totalTimeout.map { (instant: clock.now.offset + $0, limit: $0) }
        let retry = try resources.retryStrategy(for: request.options, clock: clock)
        guard retry.maxAttempts > 1, request.isRetrySafe else {
            return try await attempt(request, context: context, attemptTimeout: attemptTimeout, total: total, next: next)
        }
        return try await retry.execute(when: resources.retryPredicate, deadline: total?.instant) { _ in
            try await attempt(request, context: context, attemptTimeout: attemptTimeout, total: total, next: next)
        }
    }

    /// One attempt, through the same ``GuardedAttempt`` every Interchange policy uses: breaker permit → rate
    /// limit → bulkhead slot → the request under its deadline → breaker outcome (5xx, transport errors and
    /// timeouts count as failures; our own limiter or bulkhead refusing, and cancellation, do not).
    @inline(__always)
    private func attempt(
        _ request: ClientRequest,
        context: ClientContext,
        attemptTimeout: Duration?,
        total: (instant: Duration, limit: Duration)?,
        next: @escaping ClientNext
    ) async throws -> ClientResponse {
        try await context.resources.attempt.run(countingAsFailure: Self.isServerError) { cleared in
            // The attempt's own timeout runs from when it may go ahead: after any wait for the rate limiter.
            var context = context
            if let attemptTimeout {
                let own = (instant: cleared + attemptTimeout, limit: attemptTimeout)
                context.deadline = total.map { $0.instant < own.instant ? $0 : own } ?? own
            } else {
                context.deadline = total
            }
            return try await next(request, context)
        }
    }

    /// A 5xx: what the breaker counts against the host (4xx are the caller's mistakes, not the dependency's).
    /// A function rather than a key path: a key path is applied through the runtime on every attempt.
    @inline(__always)
    static func isServerError(_ response: ClientResponse) -> Bool { response.status.code >= 500 }
}
