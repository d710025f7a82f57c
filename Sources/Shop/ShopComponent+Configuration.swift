import Foundation
import HTTPIntegration
import InterchangeCore

/// How the shop talks to Stripe and where buyers reach it.
///
/// Without a secret key the shop talks to Interchange's Stripe simulator — mounted at `/sim/stripe` on this process
/// unless ``stripeAPIBase`` says where — with the simulator's key, and registers its webhook endpoint there itself.
/// With `STRIPE_SECRET_KEY` it talks to `https://api.stripe.com` (test mode with an `sk_test_…` key), and needs
/// the endpoint's signing secret, `STRIPE_WEBHOOK_SECRET` (from the Dashboard or `stripe listen`).
public struct ShopConfiguration: Sendable {
    /// `STRIPE_SECRET_KEY`; nil talks to the simulator with ``simulatorSecretKey``.
    public var stripeSecretKey: String?
    /// `STRIPE_WEBHOOK_SECRET`, comma-separated: every secret accepted (several during a rotation).
    public var stripeWebhookSecrets: [String]
    /// Stripe's base URL; nil for `https://api.stripe.com` with a secret key, the embedded simulator without one.
    public var stripeAPIBase: String?
    /// Where the simulator is mounted on this process.
    public var simulatorPath: String
    /// The key sent to a simulator when no `STRIPE_SECRET_KEY` is set (the simulator's `stripeSim.apiKey`).
    public var simulatorSecretKey: String
    /// Where buyers' browsers reach the shop, for Stripe's success and cancel URLs; nil for this process's own URL.
    public var publicBaseURL: String?
    /// Whether stored webhook events are processed (false stores and acknowledges them only — for operations and
    /// for the crash test, which restarts the process with processing on).
    public var processesWebhooks: Bool
    /// Retries, breaker and timeouts for calls to Stripe.
    public var stripePolicy: HostPolicy
    /// How long a Checkout session stays open.
    public var sessionLifetime: Duration

    /// The simulator's default API key.
    public static let simulatorSecretKey = "sk_test_interchange"
    public static let defaultSimulatorPath = "/sim/stripe"
    public static let stripeAPIBase = "https://api.stripe.com"

    public init(
        stripeSecretKey: String? = nil,
        stripeWebhookSecrets: [String] = [],
        stripeAPIBase: String? = nil,
        simulatorPath: String = ShopConfiguration.defaultSimulatorPath,
        simulatorSecretKey: String = ShopConfiguration.simulatorSecretKey,
        publicBaseURL: String? = nil,
        processesWebhooks: Bool = true,
        stripePolicy: HostPolicy = StripeCheckoutClient.defaultPolicy,
        sessionLifetime: Duration = .seconds(24 * 3600)
    ) {
        self.stripeSecretKey = stripeSecretKey
        self.stripeWebhookSecrets = stripeWebhookSecrets
        self.stripeAPIBase = stripeAPIBase
        self.simulatorPath = simulatorPath
        self.simulatorSecretKey = simulatorSecretKey
        self.publicBaseURL = publicBaseURL
        self.processesWebhooks = processesWebhooks
        self.stripePolicy = stripePolicy
        self.sessionLifetime = sessionLifetime
    }

    /// The key requests carry.
    public var effectiveSecretKey: String { stripeSecretKey ?? simulatorSecretKey }

    /// Whether the shop calls Interchange's simulator in this process (no key and no base URL configured).
    public var usesEmbeddedSimulator: Bool { stripeAPIBase == nil && stripeSecretKey == nil }

    /// Whether Stripe here is a simulator (anything but api.stripe.com), which the shop may register its endpoint with.
    public var talksToSimulator: Bool {
        if usesEmbeddedSimulator { return true }
        let base = stripeAPIBase ?? Self.stripeAPIBase
        return URL(string: base)?.host?.lowercased() != "api.stripe.com"
    }

    /// Whether the shop registers its webhook endpoint through the API at start-up (a simulator, no configured secret).
    public var registersWebhookEndpoint: Bool { talksToSimulator && stripeWebhookSecrets.isEmpty }

    /// Stripe's base URL, given where this process listens.
    public func apiBase(selfBaseURL: String) -> String {
        if let stripeAPIBase { return stripeAPIBase }
        return stripeSecretKey == nil ? selfBaseURL + simulatorPath : Self.stripeAPIBase
    }

    /// Splits `STRIPE_WEBHOOK_SECRET`'s comma-separated list.
    public static func webhookSecrets(from list: String?) -> [String] {
        (list ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Throws ``ConfigurationError`` naming the first bad field.
    public func validate() throws {
        if let key = stripeSecretKey {
            guard key.hasPrefix("sk_") || key.hasPrefix("rk_"), key.count > 8, !key.contains(where: \.isWhitespace) else {
                throw ConfigurationError(field: "shop.stripe.secretKey", reason: "must be a Stripe secret key (sk_test_… or rk_test_…)")
            }
        }
        for (index, secret) in stripeWebhookSecrets.enumerated() where !secret.hasPrefix("whsec_") || secret.count <= 6 {
            throw ConfigurationError(
                field: "shop.stripe.webhookSecret",
                reason: "entry \(index + 1) of the comma-separated list is not a webhook signing secret (whsec_…)"
            )
        }
        if let stripeAPIBase { _ = try HTTPURL.parse(stripeAPIBase, rules: .baseURL, field: "shop.stripe.apiBase") }
        if let publicBaseURL { _ = try HTTPURL.parse(publicBaseURL, rules: .baseURL, field: "shop.publicBaseURL") }
        if !talksToSimulator && stripeWebhookSecrets.isEmpty {
            throw ConfigurationError(
                field: "shop.stripe.webhookSecret",
                reason: "is required with real Stripe: set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret "
                    + "(the Dashboard's, or the whsec_… that `stripe listen` prints)"
            )
        }
        try ConfigurationError.require(
            sessionLifetime >= .seconds(90 * 60) && sessionLifetime <= .seconds(24 * 3600),
            field: "shop.stripe.sessionLifetime",
            "must be 90 minutes to 24 hours (a planned attempt is retried with its expiry until Stripe's 30-minute minimum is near)",
            got: sessionLifetime
        )
        do { try stripePolicy.validate() } catch let error as ConfigurationError { throw error.nested(under: "shop.stripe.policy") }
    }
}
