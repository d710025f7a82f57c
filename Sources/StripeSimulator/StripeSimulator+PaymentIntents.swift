import InterchangeCore

/// The PaymentIntents API as a server-side integration uses it: create (and confirm at once), confirm later,
/// cancel; retrieving and listing are generic (``retrieve(_:_:_:)``, ``list(_:_:url:filters:render:_:)``).
/// A Stripe test payment method (``TestPaymentMethod``) decides each attempt; a declined one answers 402
/// `card_error`, and the intent is left `requires_payment_method` with `last_payment_error`.
extension StripeSimulator {
    /// What `POST /v1/payment_intents` accepts; the rest is `parameter_unknown`.
    static let paymentIntentParameters: Set<String> = [
        "amount", "currency", "payment_method", "confirm", "return_url", "customer", "metadata", "description",
        "automatic_payment_methods", "payment_method_types", "capture_method", "confirmation_method", "receipt_email",
        "statement_descriptor_suffix", "setup_future_usage", "off_session", "error_on_requires_action", "expand",
    ]

    static let confirmParameters: Set<String> = [
        "payment_method", "return_url", "receipt_email", "off_session", "error_on_requires_action", "expand",
    ]

    func createPaymentIntent(_ call: StripeAPICall) async throws(StripeAPIError) -> StripeJSON {
        let p = call.parameters
        try p.requireOnly(Self.paymentIntentParameters)
        let amount = try StripeParameters.requiredInt(p.node("amount"), "amount")
        guard amount >= 1 else { throw .invalid("amount", "This value must be greater than or equal to 1.", code: "parameter_invalid_integer") }
        guard amount <= 99_999_999 else {
            throw .invalid("amount", "Amount must be no more than 99999999 (in the currency's smallest unit).", code: "amount_too_large")
        }
        let currency = try p.requiredString("currency").lowercased()
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw .invalid("currency", "Invalid currency: \(currency). Stripe currently supports these currencies: usd, eur, gbp, …")
        }
        let (automatic, types) = try Self.paymentMethodChoice(p)
        let returnURL = try p.string("return_url")
        if let returnURL { try Self.requireURL(returnURL, "return_url") }
        let receiptEmail = try Self.email(p, "receipt_email")
        let suffix = try p.string("statement_descriptor_suffix")
        if let suffix, suffix.count > 22 {
            throw .invalid("statement_descriptor_suffix", "Invalid string: statement_descriptor_suffix can be at most 22 characters long.")
        }
        _ = try p.bool("off_session")
        _ = try p.bool("error_on_requires_action")
        let new = StripeSimulatorState.NewPaymentIntent(
            amount: amount,
            currency: currency,
            paymentMethod: try p.string("payment_method"),
            confirm: try p.bool("confirm") ?? false,
            returnURL: returnURL,
            customer: try p.string("customer"),
            metadata: try p.metadata("metadata"),
            description: try p.string("description"),
            automaticPaymentMethods: automatic,
            paymentMethodTypes: types,
            captureMethod: try Self.captureMethod(p),
            confirmationMethod: try Self.oneOf(p, "confirmation_method", ["automatic", "manual"]) ?? "automatic",
            receiptEmail: receiptEmail,
            statementDescriptor: nil,
            statementDescriptorSuffix: suffix,
            setupFutureUsage: try Self.oneOf(p, "setup_future_usage", ["off_session", "on_session"])
        )
        let change = try state.createPaymentIntent(new, origin: call.origin, now: call.now)
        return try await answer(change, call)
    }

    func confirmPaymentIntent(_ call: StripeAPICall) async throws(StripeAPIError) -> StripeJSON {
        let p = call.parameters
        try p.requireOnly(Self.confirmParameters)
        let returnURL = try p.string("return_url")
        if let returnURL { try Self.requireURL(returnURL, "return_url") }
        let receiptEmail = try Self.email(p, "receipt_email")
        _ = try p.bool("off_session")
        _ = try p.bool("error_on_requires_action")
        let change = try state.confirmPaymentIntent(
            id: call.pathID(),
            paymentMethod: try p.string("payment_method"),
            returnURL: returnURL,
            receiptEmail: receiptEmail,
            origin: call.origin,
            now: call.now
        )
        return try await answer(change, call)
    }

    func cancelPaymentIntent(_ call: StripeAPICall) async throws(StripeAPIError) -> StripeJSON {
        let p = call.parameters
        try p.requireOnly(["cancellation_reason", "expand"])
        let reason = try Self.oneOf(p, "cancellation_reason", ["abandoned", "duplicate", "fraudulent", "requested_by_customer"])
        let (intent, events) = try state.cancelPaymentIntent(id: call.pathID(), reason: reason, origin: call.origin, now: call.now)
        await publish(events)
        return try expanded(intent.json, call)
    }

    /// Queues the change's events, then answers the intent — or the card error of a declined attempt (after the
    /// events: the decline happened, and its answer is stored for the idempotency key like any other).
    private func answer(_ change: StripeSimulatorState.PaymentIntentChange, _ call: StripeAPICall) async throws(StripeAPIError) -> StripeJSON {
        await publish(change.events)
        if let cardError = change.cardError { throw cardError }
        return try expanded(change.intent.json, call)
    }

    // MARK: Parameters

    /// `automatic_payment_methods[enabled|allow_redirects]` or `payment_method_types[]` (not both); with neither,
    /// automatic payment methods are on with redirects allowed, as Stripe defaults since API version 2023-08-16.
    static func paymentMethodChoice(
        _ p: StripeParameters
    ) throws(StripeAPIError) -> (PaymentIntent.AutomaticPaymentMethods?, [String]) {
        let automaticNode = p.node("automatic_payment_methods")
        let typesNode = p.node("payment_method_types")
        if automaticNode != nil && typesNode != nil {
            throw StripeAPIError(
                status: .badRequest,
                code: "parameters_exclusive",
                message: "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
                param: "automatic_payment_methods",
                isValidation: true
            )
        }
        if let typesNode {
            let list: [StripeForm.Node]
            if typesNode.string != nil {
                list = [typesNode]
            } else if let elements = typesNode.list {
                list = elements
            } else {
                throw .invalid("payment_method_types", "Invalid array")
            }
            guard !list.isEmpty else { throw .missing("payment_method_types") }
            var types: [String] = []
            for (index, element) in list.enumerated() {
                let type = try StripeParameters.requiredString(element, "payment_method_types[\(index)]")
                guard type == "card" else {
                    throw .invalid(
                        "payment_method_types[\(index)]",
                        "The payment method type \"\(type)\" is invalid. The Stripe simulator supports only \"card\"."
                    )
                }
                if !types.contains(type) { types.append(type) }
            }
            return (nil, types)
        }
        guard let automaticNode else { return (.init(enabled: true, allowRedirects: "always"), ["card"]) }
        guard automaticNode.isObject else { throw .invalid("automatic_payment_methods", "Invalid object") }
        if let unknown = automaticNode.members.first(where: { !["enabled", "allow_redirects"].contains($0.key) }) {
            throw .unknown("automatic_payment_methods[\(unknown.key)]")
        }
        guard automaticNode["enabled"] != nil else { throw .missing("automatic_payment_methods[enabled]") }
        let enabled = try StripeParameters.bool(automaticNode["enabled"], "automatic_payment_methods[enabled]") ?? false
        let redirects = try StripeParameters.string(automaticNode["allow_redirects"], "automatic_payment_methods[allow_redirects]")
        if let redirects, !["always", "never"].contains(redirects) {
            throw .invalid(
                "automatic_payment_methods[allow_redirects]",
                "Invalid automatic_payment_methods[allow_redirects]: must be one of always or never"
            )
        }
        return (.init(enabled: enabled, allowRedirects: redirects ?? (enabled ? "always" : nil)), ["card"])
    }

    static func captureMethod(_ p: StripeParameters) throws(StripeAPIError) -> String {
        let method = try oneOf(p, "capture_method", ["automatic", "automatic_async", "manual"]) ?? "automatic_async"
        guard method != "manual" else {
            throw .invalid("capture_method", "The Stripe simulator does not place holds: capture_method=manual is not supported.")
        }
        return method
    }

    /// An optional parameter that must be one of `allowed` (Stripe's wording: "must be one of a, b, or c").
    static func oneOf(_ p: StripeParameters, _ name: String, _ allowed: [String]) throws(StripeAPIError) -> String? {
        guard let value = try p.string(name) else { return nil }
        guard allowed.contains(value) else {
            let listed = allowed.count > 1 ? allowed.dropLast().joined(separator: ", ") + ", or " + allowed.last! : allowed[0]
            throw .invalid(name, "Invalid \(name): must be one of \(listed)")
        }
        return value
    }

    static func email(_ p: StripeParameters, _ name: String) throws(StripeAPIError) -> String? {
        guard let value = try p.string(name) else { return nil }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !value.contains(where: \.isWhitespace) else {
            throw .invalid(name, "Invalid email address: \(value)", code: "email_invalid")
        }
        return value
    }
}
