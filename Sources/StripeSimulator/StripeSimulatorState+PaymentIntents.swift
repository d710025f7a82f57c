import HTTPTypes
import InterchangeCore

/// The PaymentIntents API's transitions, each one critical section that records the events it causes:
///
/// ```
/// create ──(no payment_method)──▶ requires_payment_method ──confirm(pm)──┐
///    └──(payment_method)──▶ requires_confirmation ──confirm──────────────┤
///    └──(payment_method, confirm=true)───────────────────────────────────┤
///                                                                         ▼
///                   succeeded ◀── the test payment method succeeds ── attempt ── declines ──▶ requires_payment_method
///                                                                                              (last_payment_error, 402)
/// requires_payment_method / requires_confirmation ──cancel──▶ canceled
/// ```
///
/// Every attempt makes a charge (`latest_charge`): succeeded, or failed with the decline.
extension StripeSimulatorState {
    /// A `POST /v1/payment_intents` whose parameters are valid.
    struct NewPaymentIntent: Sendable {
        var amount: Int
        var currency: String
        var paymentMethod: String?
        var confirm: Bool
        var returnURL: String?
        var customer: String?
        var metadata: [String: String]
        var description: String?
        var automaticPaymentMethods: PaymentIntent.AutomaticPaymentMethods?
        var paymentMethodTypes: [String]
        var captureMethod: String
        var confirmationMethod: String
        var receiptEmail: String?
        var statementDescriptor: String?
        var statementDescriptorSuffix: String?
        var setupFutureUsage: String?
    }

    /// What a create or confirm did: the intent after it, its events in order, and — when the attempt was
    /// declined — the card error the request answers (402), which names the intent, its charge and payment method.
    struct PaymentIntentChange: Sendable {
        var intent: PaymentIntent
        var events: [StripeEvent]
        var cardError: StripeAPIError?
    }

    /// The states a PaymentIntent can be confirmed or canceled in (Stripe's lists; the simulator never reaches
    /// `requires_action` or `requires_capture`).
    static let confirmableStatuses = "requires_confirmation, requires_action, requires_payment_method"
    static let cancelableStatuses = "requires_payment_method, requires_capture, requires_confirmation, requires_action, processing"

    func createPaymentIntent(_ new: NewPaymentIntent, origin: Origin, now: Int) throws(StripeAPIError) -> PaymentIntentChange {
        try withStore { (store: inout Store) throws(StripeAPIError) -> PaymentIntentChange in
            if let customer = new.customer, store.customers[customer] == nil {
                throw .noSuch("customer", customer, param: "customer", status: .badRequest)
            }
            let method = try new.paymentMethod.map { name throws(StripeAPIError) in try Self.paymentMethod(name, store: &store, now: now) }
            if new.confirm {
                guard method != nil else { throw Self.missingPaymentMethod }
                try Self.requireReturnURL(new.automaticPaymentMethods, returnURL: new.returnURL)
            }
            let id = RandomIdentifier.make(prefix: "pi", length: 24)
            var intent = PaymentIntent(
                id: id,
                sequence: store.nextSequence(),
                created: now,
                amount: new.amount,
                currency: new.currency,
                metadata: new.metadata,
                customer: new.customer,
                clientSecret: "\(id)_secret_\(RandomIdentifier.random(length: 25))"
            )
            intent.status = method == nil ? .requiresPaymentMethod : .requiresConfirmation
            intent.paymentMethod = method?.id
            intent.description = new.description
            intent.automaticPaymentMethods = new.automaticPaymentMethods
            intent.paymentMethodTypes = new.paymentMethodTypes
            intent.captureMethod = new.captureMethod
            intent.confirmationMethod = new.confirmationMethod
            intent.receiptEmail = new.receiptEmail
            intent.statementDescriptor = new.statementDescriptor
            intent.statementDescriptorSuffix = new.statementDescriptorSuffix
            intent.setupFutureUsage = new.setupFutureUsage
            store.paymentIntents[id] = intent
            var events = [store.record("payment_intent.created", intent.json, origin: origin, at: now)]
            guard new.confirm, let method else { return PaymentIntentChange(intent: intent, events: events, cardError: nil) }
            var change = Self.attempt(&intent, with: method, store: &store, origin: origin, now: now)
            events += change.events
            change.events = events
            return change
        }
    }

    /// `POST /v1/payment_intents/{id}/confirm`: attaches `paymentMethod` when given, then attempts the payment.
    func confirmPaymentIntent(
        id: String,
        paymentMethod: String?,
        returnURL: String?,
        receiptEmail: String?,
        origin: Origin,
        now: Int
    ) throws(StripeAPIError) -> PaymentIntentChange {
        try withStore { (store: inout Store) throws(StripeAPIError) -> PaymentIntentChange in
            guard var intent = store.paymentIntents[id] else { throw .noSuch("payment_intent", id) }
            try Self.requireNotCheckout(intent, store: store, action: "confirmed")
            switch intent.status {
            case .requiresPaymentMethod, .requiresConfirmation:
                break
            case .succeeded:
                throw Self.unexpectedState("You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.")
            case .processing, .canceled:
                throw Self.unexpectedState(
                    "You cannot confirm this PaymentIntent because it has a status of \(intent.status.rawValue). Only a PaymentIntent with one of the following statuses may be confirmed: \(Self.confirmableStatuses)."
                )
            }
            let method: PaymentMethod
            if let paymentMethod {
                method = try Self.paymentMethod(paymentMethod, store: &store, now: now)
            } else if let attached = intent.paymentMethod, let found = store.paymentMethods[attached] {
                method = found
            } else {
                throw Self.missingPaymentMethod
            }
            try Self.requireReturnURL(intent.automaticPaymentMethods, returnURL: returnURL)
            if let receiptEmail { intent.receiptEmail = receiptEmail }
            intent.paymentMethod = method.id
            return Self.attempt(&intent, with: method, store: &store, origin: origin, now: now)
        }
    }

    /// `POST /v1/payment_intents/{id}/cancel`, recording `payment_intent.canceled`.
    func cancelPaymentIntent(id: String, reason: String?, origin: Origin, now: Int) throws(StripeAPIError) -> (PaymentIntent, [StripeEvent]) {
        try withStore { (store: inout Store) throws(StripeAPIError) -> (PaymentIntent, [StripeEvent]) in
            guard var intent = store.paymentIntents[id] else { throw .noSuch("payment_intent", id) }
            try Self.requireNotCheckout(intent, store: store, action: "canceled")
            switch intent.status {
            case .requiresPaymentMethod, .requiresConfirmation:
                break
            case .processing, .succeeded, .canceled:
                throw Self.unexpectedState(
                    "You cannot cancel this PaymentIntent because it has a status of \(intent.status.rawValue). Only a PaymentIntent with one of the following statuses may be canceled: \(Self.cancelableStatuses)."
                )
            }
            intent.status = .canceled
            intent.canceledAt = now
            intent.cancellationReason = reason
            store.paymentIntents[id] = intent
            return (intent, [store.record("payment_intent.canceled", intent.json, origin: origin, at: now)])
        }
    }

    // MARK: Steps

    /// One payment attempt with `method`: a charge, and the intent `succeeded` or back to `requires_payment_method`
    /// with `last_payment_error` and the payment method detached, as Stripe leaves a declined intent.
    private static func attempt(
        _ intent: inout PaymentIntent,
        with method: PaymentMethod,
        store: inout Store,
        origin: Origin,
        now: Int
    ) -> PaymentIntentChange {
        let decline = method.card.decline
        let charge = charge(for: intent, last4: method.card.last4, failure: decline, paymentMethod: method, store: &store, now: now)
        intent.latestCharge = charge.id
        let chargeJSON = store.chargeJSON(charge.id) ?? charge.json
        guard let decline else {
            intent.status = .succeeded
            intent.paymentMethod = method.id
            intent.lastPaymentError = nil
            intent.lastPaymentErrorCharge = nil
            intent.lastPaymentErrorMethod = nil
            store.paymentIntents[intent.id] = intent
            let events = [
                store.record("charge.succeeded", chargeJSON, origin: origin, at: now),
                store.record("payment_intent.succeeded", intent.json, origin: origin, at: now),
            ]
            return PaymentIntentChange(intent: intent, events: events, cardError: nil)
        }
        intent.status = .requiresPaymentMethod
        intent.paymentMethod = nil
        intent.lastPaymentError = decline
        intent.lastPaymentErrorCharge = charge.id
        intent.lastPaymentErrorMethod = method
        store.paymentIntents[intent.id] = intent
        let events = [
            store.record("charge.failed", chargeJSON, origin: origin, at: now),
            store.record("payment_intent.payment_failed", intent.json, origin: origin, at: now),
        ]
        var error = StripeAPIError(
            status: HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"),
            type: "card_error",
            code: decline.code,
            message: decline.message,
            param: decline.param,
            declineCode: decline.declineCode
        )
        error.attachments = ["charge": .string(charge.id), "payment_intent": intent.json, "payment_method": method.json]
        return PaymentIntentChange(intent: intent, events: events, cardError: error)
    }

    /// A payment method made earlier (`pm_…`), or a fresh one made from a test payment method (`pm_card_visa`).
    private static func paymentMethod(_ name: String, store: inout Store, now: Int) throws(StripeAPIError) -> PaymentMethod {
        if let existing = store.paymentMethods[name] { return existing }
        guard let card = TestPaymentMethod(name: name) else {
            throw StripeAPIError(
                status: .badRequest,
                code: "resource_missing",
                message: "No such PaymentMethod: '\(name)'",
                param: "payment_method"
            )
        }
        let method = PaymentMethod(id: RandomIdentifier.make(prefix: "pm", length: 24), sequence: store.nextSequence(), created: now, card: card)
        store.paymentMethods[method.id] = method
        return method
    }

    /// Stripe refuses to confirm an intent that may redirect (automatic payment methods with `allow_redirects`
    /// `always`, the default) without a `return_url`.
    private static func requireReturnURL(_ automatic: PaymentIntent.AutomaticPaymentMethods?, returnURL: String?) throws(StripeAPIError) {
        guard let automatic, automatic.enabled, automatic.allowRedirects == "always", returnURL == nil else { return }
        throw StripeAPIError(
            status: .badRequest,
            message:
                "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.",
            param: "return_url",
            isValidation: true
        )
    }

    /// Checkout's intents are paid on the session's page, not through the PaymentIntents API.
    private static func requireNotCheckout(_ intent: PaymentIntent, store: Store, action: String) throws(StripeAPIError) {
        guard let session = store.sessionOfPaymentIntent[intent.id] else { return }
        throw unexpectedState(
            "This PaymentIntent belongs to the Checkout Session \(session) and cannot be \(action) through the API; it is paid on the session's page."
        )
    }

    private static let missingPaymentMethod = StripeAPIError(
        status: .badRequest,
        code: "payment_intent_unexpected_state",
        message:
            "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
        param: "payment_method",
        isValidation: true
    )

    private static func unexpectedState(_ message: String) -> StripeAPIError {
        StripeAPIError(status: .badRequest, code: "payment_intent_unexpected_state", message: message)
    }
}
