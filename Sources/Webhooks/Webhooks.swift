/// Webhooks: signing and verification (Stripe's scheme and Standard Webhooks), a durable inbox that gives every
/// event exactly one effect, and an outbound delivery engine with retries, circuit breakers, dead letters,
/// replay, secret rotation and an SSRF guard.
///
/// Built on swift-crypto (HMAC-SHA256, constant-time comparison), the `Persistence` target (SQLite or
/// PostgreSQL) and the `Resilience` policies.
public enum WebhooksModule {}
