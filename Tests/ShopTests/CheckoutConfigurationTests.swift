import InterchangeCore
import Testing

@testable import Shop

/// Which Stripe the shop talks to, with which key and secrets, and the errors that name the field.
@Suite struct CheckoutConfigurationTests {
    func field(_ configuration: ShopConfiguration) -> String? {
        do {
            try configuration.validate()
            return nil
        } catch let error as ConfigurationError {
            return error.field
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func withoutAKeyTheShopCallsTheEmbeddedSimulatorAndRegistersItsEndpoint() throws {
        let configuration = ShopConfiguration()
        try configuration.validate()
        #expect(configuration.usesEmbeddedSimulator)
        #expect(configuration.registersWebhookEndpoint)
        #expect(configuration.effectiveSecretKey == "sk_test_interchange")
        #expect(configuration.apiBase(selfBaseURL: "http://127.0.0.1:8080") == "http://127.0.0.1:8080/sim/stripe")
    }

    @Test func withAKeyAndASecretTheShopCallsStripe() throws {
        let configuration = ShopConfiguration(stripeSecretKey: "sk_test_51abc", stripeWebhookSecrets: ["whsec_1", "whsec_2"])
        try configuration.validate()
        #expect(!configuration.talksToSimulator)
        #expect(!configuration.registersWebhookEndpoint)
        #expect(configuration.apiBase(selfBaseURL: "http://127.0.0.1:8080") == "https://api.stripe.com")
    }

    @Test func aConfiguredSecretMeansNoRegistrationEvenWithTheSimulator() {
        #expect(!ShopConfiguration(stripeWebhookSecrets: ["whsec_x"]).registersWebhookEndpoint)
        #expect(ShopConfiguration(stripeSecretKey: "sk_test_interchange", stripeAPIBase: "http://127.0.0.1:12111").registersWebhookEndpoint)
    }

    @Test func theWebhookSecretListIsCommaSeparated() {
        #expect(ShopConfiguration.webhookSecrets(from: " whsec_a, whsec_b ,,") == ["whsec_a", "whsec_b"])
        #expect(ShopConfiguration.webhookSecrets(from: nil).isEmpty)
    }

    @Test func badValuesNameTheirField() {
        #expect(field(ShopConfiguration(stripeSecretKey: "pk_test_publishable", stripeWebhookSecrets: ["whsec_1"])) == "shop.stripe.secretKey")
        #expect(field(ShopConfiguration(stripeWebhookSecrets: ["whsec_1", "not-a-secret"])) == "shop.stripe.webhookSecret")
        #expect(field(ShopConfiguration(stripeSecretKey: "sk_test_51abc")) == "shop.stripe.webhookSecret")
        #expect(field(ShopConfiguration(stripeAPIBase: "ftp://stripe")) == "shop.stripe.apiBase")
        #expect(field(ShopConfiguration(publicBaseURL: "shop.example")) == "shop.publicBaseURL")
        #expect(field(ShopConfiguration(sessionLifetime: .seconds(600))) == "shop.stripe.sessionLifetime")
        var policy = StripeCheckoutClient.defaultPolicy
        policy.retry.maxAttempts = 0
        #expect(field(ShopConfiguration(stripePolicy: policy)) == "shop.stripe.policy.retry.maxAttempts")
    }
}
