/// HTTPIntegration: an HTTP client that survives real-world APIs.
///
/// ``ResilientHTTPClient`` runs every request through a middleware pipeline over AsyncHTTPClient:
///
/// 1. observability — one span per call (W3C `traceparent` is injected by AsyncHTTPClient's tracing),
///    a debug log line with secrets redacted, request counters and latency histograms per host and outcome;
///    every failure surfaces as one typed ``HTTPIntegrationError``;
/// 2. caching — ETag / Last-Modified revalidation, `Cache-Control: max-age`, stale-if-error (``HTTPCache``);
/// 3. idempotency keys — an `Idempotency-Key` for POST/PATCH, identical across retries;
/// 4. resilience (per host, from the `Resilience` target) — total timeout, retry with jittered backoff and a
///    retry budget honouring `Retry-After`, circuit breaker, rate limiter, bulkhead, per-attempt timeout;
/// 5. your middlewares, then authentication (API key, bearer, Basic, OAuth 2.0 client credentials);
/// 6. the transport: AsyncHTTPClient, with a cap on response body size.
///
/// Pagination (RFC 8288 `Link`, Stripe-style cursors, page and offset) is an `AsyncSequence`.
///
/// ```swift
/// let client = try ResilientHTTPClient(configuration: .init(
///     hosts: ["api.github.com": HostPolicy(authentication: .bearer(token))]
/// ))
/// let repo = try await client.get("https://api.github.com/repos/apple/swift-nio").decode(Repository.self)
/// ```
public enum HTTPIntegrationModule {}
