import HTTPTypes
import Resilience

import Foundation

/// Applies the host's policies around the rest of the pipeline, in the order Polly and Resilience4j advise:
/// total timeout → retry → circuit breaker → rate limiter → bulkhead → attempt timeout.
///
/// Retries happen only for requests that are safe to repeat (``ClientRequest/isRetrySafe``), on transport
/// errors, attempt timeouts and the policy's retryable statuses; `Retry-After` on 429 and 503 sets the delay.
/// The breaker counts transport errors, timeouts and 5xx responses as failures, not 4xx.
struct ResilienceMiddleware: ClientMiddleware {
    let clock: AnyClock
    let now: @Sendable () -> Date

    func handle(_ request: ClientRequest, context: ClientContext, next: @escaping ClientNext) async throws -> ClientResponse {
        let resources = context.resources
        let policy = context.policy
        let retrySafe = request.isRetrySafe
        let retryableStatuses = policy.retry.retryableStatuses
        let now = self.now

        var attempt: @Sendable () async throws -> ClientResponse = { try await next(request, context) }
        if let timeout = request.options.attemptTimeout ?? policy.attemptTimeout {
            let limit = try Timeout(timeout, clock: clock)
            let inner = attempt
            attempt = { try await limit.execute(inner) }
        }
        if let bulkhead = resources.bulkhead {
            let inner = attempt
            attempt = { try await bulkhead.execute(inner) }
        }
        if let limiter = resources.limiter {
            let inner = attempt
            attempt = { try await limiter.execute(inner) }
        }
        if let breaker = resources.breaker {
            let inner = attempt
            attempt = { try await breaker.execute(isFailure: { $0.status.code >= 500 }, inner) }
        }
        let retry = try resources.retryStrategy(for: request.options, clock: clock)
        let predicate = RetryPredicate<ClientResponse>(
            onError: { error in
                guard retrySafe, !(error is HTTPResponseTooLarge) else { return .doNotRetry }
                return RetryPredicate<ClientResponse>.defaultErrorDecision(error)
            },
            onResult: { response in
                guard retrySafe, retryableStatuses.contains(response.status.code) else { return .doNotRetry }
                if response.status.code == 429 || response.status.code == 503,
                    let delay = RetryAfter.parse(response.headerFields[.retryAfter], now: now())
                {
                    return .retryAfter(delay)
                }
                return .retry
            }
        )
        let attemptOnce = attempt
        var call: @Sendable () async throws -> ClientResponse = {
            try await retry.execute(when: predicate) { _ in try await attemptOnce() }
        }
        if let total = request.options.totalTimeout ?? policy.totalTimeout {
            let limit = try Timeout(total, clock: clock)
            let inner = call
            call = { try await limit.execute(inner) }
        }
        return try await call()
    }
}
