import Foundation
import Logging
import Resilience
import ServiceLifecycle
import Synchronization

/// The webhook signing secrets the shop accepts: the configured ones (`STRIPE_WEBHOOK_SECRET`) and the secret of the
/// endpoint it registered with the simulator. Read on every delivery.
public final class StripeWebhookSecrets: Sendable {
    private let configured: [String]
    private let registered = Mutex<String?>(nil)

    public init(configured: [String]) {
        self.configured = configured
    }

    /// Every secret a delivery's signature may be made with: the configured ones, then the registered one.
    public var all: [String] {
        configured + (registered.withLock { $0 }.map { [$0] } ?? [])
    }

    func register(_ secret: String) {
        registered.withLock { $0 = secret }
    }
}

/// Registers the shop's webhook endpoint with the Stripe simulator (`POST /v1/webhook_endpoints`, for the event
/// types the shop handles) and keeps its `whsec_` secret in the store's settings, so the simulator's signed deliveries
/// are accepted. What real Stripe needs instead is `stripe listen` or a Dashboard endpoint and `STRIPE_WEBHOOK_SECRET`.
///
/// A background service: the simulator may be this very process, which answers only once its server listens, so the
/// registration is retried with backoff until it succeeds, then the service waits for shutdown. At start the stored
/// endpoint is reused when the simulator still has it at the same URL; otherwise a new one is registered and the old
/// one deleted (a restart on another port must not leave deliveries going to the old address).
final class StripeWebhookRegistration: Service, Sendable {
    static let settingKey = "stripe.webhookEndpoint"
    /// From 100 ms, doubling, at most 5 s apart: the simulator in this process answers within moments of start-up.
    static let defaultBackoff = (try? Backoff.exponential(initial: .milliseconds(100), maxDelay: .seconds(5))) ?? .standard

    private let stripe: StripeCheckoutClient
    private let store: ShopStore
    private let endpointURL: @Sendable () -> String
    private let events: [String]
    private let secrets: StripeWebhookSecrets
    private let backoff: Backoff
    private let clock: AnyClock
    private let logger: Logger
    private let registered = Mutex(false)

    init(
        stripe: StripeCheckoutClient,
        store: ShopStore,
        endpointURL: @escaping @Sendable () -> String,
        events: [String],
        secrets: StripeWebhookSecrets,
        backoff: Backoff = StripeWebhookRegistration.defaultBackoff,
        clock: some Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) {
        self.stripe = stripe
        self.store = store
        self.endpointURL = endpointURL
        self.events = events
        self.secrets = secrets
        self.backoff = backoff
        self.clock = AnyClock(clock)
        self.logger = logger
    }

    /// Whether the endpoint is registered (and its secret accepted).
    var isRegistered: Bool { registered.withLock { $0 } }

    func run() async throws {
        // A stored secret is accepted at once: deliveries may arrive before the simulator is asked again.
        if let stored = try? await storedEndpoint(), let secret = stored.secret { secrets.register(secret) }
        var attempt = 0
        var delay = Duration.zero
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await register()
                break
            } catch {
                attempt += 1
                delay = backoff.delay(beforeRetry: attempt, previousDelay: delay, jitterSource: .system)
                logger.debug(
                    "cannot register the webhook endpoint with the Stripe simulator yet; retrying",
                    metadata: ["attempt": "\(attempt)", "retry_in": "\(delay)", "error": "\(error)"]
                )
                try? await cancelWhenGracefulShutdown { [clock, delay] in try await clock.sleep(for: delay) }
            }
        }
        try? await gracefulShutdown()
    }

    /// One round: reuse the stored endpoint when the simulator still has it at this URL, else register a new one.
    func register() async throws {
        let stored = try await storedEndpoint()
        let existing = try await stripe.listWebhookEndpoints()
        // Read after the simulator answered: when it is this process, its address is known only once it listens —
        // and a connection can be served a moment before the server has reported its port (then still `:0`).
        let url = endpointURL()
        guard URL(string: url)?.port != 0 else { throw AddressNotKnownYet(url: url) }
        if let stored, let secret = stored.secret, stored.url == url, existing.contains(where: { $0.id == stored.id }) {
            secrets.register(secret)
            registered.withLock { $0 = true }
            logger.debug("webhook endpoint already registered with the Stripe simulator", metadata: ["endpoint": "\(stored.id)"])
            return
        }
        let created = try await stripe.createWebhookEndpoint(url: url, events: events)
        guard let secret = created.secret, secret.hasPrefix("whsec_") else {
            throw StripeRequestError(
                code: .invalidResponse,
                status: nil,
                message: "the webhook endpoint \(created.id) came back without a whsec_ secret"
            )
        }
        let value = try JSONEncoder().encode(StripeCheckoutClient.WebhookEndpoint(id: created.id, url: url, secret: secret))
        try await store.setSetting(Self.settingKey, String(decoding: value, as: UTF8.self))
        secrets.register(secret)
        registered.withLock { $0 = true }
        logger.info("webhook endpoint registered with the Stripe simulator", metadata: ["endpoint": "\(created.id)", "url": "\(url)"])
        if let stored, stored.id != created.id, existing.contains(where: { $0.id == stored.id }) {
            do {
                try await stripe.deleteWebhookEndpoint(id: stored.id)
            } catch {
                logger.debug("cannot delete the previous webhook endpoint", metadata: ["endpoint": "\(stored.id)", "error": "\(error)"])
            }
        }
    }

    private func storedEndpoint() async throws -> StripeCheckoutClient.WebhookEndpoint? {
        guard let text = try await store.setting(Self.settingKey) else { return nil }
        do {
            return try JSONDecoder().decode(StripeCheckoutClient.WebhookEndpoint.self, from: Data(text.utf8))
        } catch {
            logger.warning(
                "the stored webhook endpoint cannot be read; registering a new one",
                metadata: ["table": "shop_settings", "row": "\(Self.settingKey)", "column": "value", "error": "\(error)"]
            )
            return nil
        }
    }
}

/// The shop's own address is not known yet (the server has not reported the port it was given).
struct AddressNotKnownYet: Error, CustomStringConvertible {
    var url: String
    var description: String { "the shop's address is not known yet (\(url)); retrying" }
}
