/// The simulator's objects, as it stores them; `json` renders each in Stripe's shape (API version 2024-06-20).
///
/// Every object has a `sequence`, its place in creation order: lists are newest first by it (several objects are
/// often created in the same second, so `created` alone cannot order them).
protocol StripeObject: Sendable {
    var id: String { get }
    var sequence: Int { get }
    var json: StripeJSON { get }
}

/// One line of a Checkout Session (object `item`, id `li_…`), with its ad-hoc price and product.
struct CheckoutLineItem: Sendable, Hashable {
    var id: String
    var priceID: String
    var productID: String
    var name: String
    var currency: String
    var unitAmount: Int
    var quantity: Int
    var created: Int

    var amount: Int { unitAmount * quantity }

    var json: StripeJSON {
        [
            "id": .string(id), "object": "item", "amount_discount": 0, "amount_subtotal": .int(amount), "amount_tax": 0,
            "amount_total": .int(amount), "currency": .string(currency), "description": .string(name),
            "price": [
                "id": .string(priceID), "object": "price", "active": false, "billing_scheme": "per_unit", "created": .int(created),
                "currency": .string(currency), "custom_unit_amount": nil, "livemode": false, "lookup_key": nil, "metadata": [:],
                "nickname": nil, "product": .string(productID), "recurring": nil, "tax_behavior": "unspecified", "tiers_mode": nil,
                "transform_quantity": nil, "type": "one_time", "unit_amount": .int(unitAmount),
                "unit_amount_decimal": .string(String(unitAmount)),
            ],
            "quantity": .int(quantity),
        ]
    }
}

struct CheckoutSession: StripeObject {
    enum Status: String, Sendable { case open, complete, expired }
    enum PaymentStatus: String, Sendable {
        case unpaid, paid
        case noPaymentRequired = "no_payment_required"
    }

    var id: String
    var sequence: Int
    var created: Int
    var expiresAt: Int
    var currency: String
    var lineItems: [CheckoutLineItem]
    var successURL: String
    var cancelURL: String?
    var clientReferenceID: String?
    var metadata: [String: String]
    var paymentIntentMetadata: [String: String]
    var customer: String?
    var customerEmail: String?
    var status: Status = .open
    var paymentStatus: PaymentStatus = .unpaid
    /// The payment intent made on the first payment attempt (kept across declines, as Stripe does).
    var paymentIntentID: String?
    /// Whether `payment_intent` is shown: from the moment the payment is accepted (paid or processing).
    var paymentAccepted = false
    var customerDetailsEmail: String?
    var hostedURL: String

    var amountTotal: Int { lineItems.reduce(0) { $0 + $1.amount } }

    var json: StripeJSON {
        let customerDetails: StripeJSON =
            paymentAccepted
            ? [
                "address": nil, "email": .optional(customerDetailsEmail), "name": nil, "phone": nil, "tax_exempt": "none",
                "tax_ids": [],
            ] : nil
        return [
            "id": .string(id), "object": "checkout.session", "after_expiration": nil, "allow_promotion_codes": nil,
            "amount_subtotal": .int(amountTotal), "amount_total": .int(amountTotal),
            "automatic_tax": ["enabled": false, "liability": nil, "status": nil], "billing_address_collection": nil,
            "cancel_url": .optional(cancelURL), "client_reference_id": .optional(clientReferenceID), "client_secret": nil,
            "consent": nil, "consent_collection": nil, "created": .int(created), "currency": .string(currency), "custom_fields": [],
            "custom_text": ["after_submit": nil, "shipping_address": nil, "submit": nil, "terms_of_service_acceptance": nil],
            "customer": .optional(customer), "customer_creation": customer == nil ? "if_required" : nil,
            "customer_details": customerDetails, "customer_email": .optional(customerEmail), "expires_at": .int(expiresAt),
            "invoice": nil, "invoice_creation": nil, "livemode": false, "locale": nil, "metadata": .map(metadata), "mode": "payment",
            "payment_intent": paymentAccepted ? .optional(paymentIntentID) : nil, "payment_link": nil,
            "payment_method_collection": "if_required", "payment_method_options": [:], "payment_method_types": ["card"],
            "payment_status": .string(paymentStatus.rawValue), "phone_number_collection": ["enabled": false],
            "recovered_from": nil, "setup_intent": nil, "shipping_address_collection": nil, "shipping_cost": nil,
            "shipping_details": nil, "shipping_options": [], "status": .string(status.rawValue), "submit_type": nil,
            "subscription": nil, "success_url": .string(successURL),
            "total_details": ["amount_discount": 0, "amount_shipping": 0, "amount_tax": 0], "ui_mode": "hosted",
            // Stripe shows the URL only while the session can still be paid.
            "url": status == .open ? .string(hostedURL) : nil,
        ]
    }
}

struct PaymentIntent: StripeObject {
    enum Status: String, Sendable {
        case requiresPaymentMethod = "requires_payment_method"
        case requiresConfirmation = "requires_confirmation"
        case processing, succeeded, canceled
    }

    /// `automatic_payment_methods` as the intent was created with it.
    struct AutomaticPaymentMethods: Sendable, Hashable {
        var enabled: Bool
        /// `always` or `never`; nil when automatic payment methods are off and it was not given.
        var allowRedirects: String?
    }

    var id: String
    var sequence: Int
    var created: Int
    var amount: Int
    var currency: String
    var metadata: [String: String]
    var customer: String?
    var status: Status = .requiresPaymentMethod
    var lastPaymentError: TestCard.Decline?
    var lastPaymentErrorCharge: String?
    /// The payment method the last failed attempt used (Stripe shows it in `last_payment_error.payment_method`).
    var lastPaymentErrorMethod: PaymentMethod?
    var latestCharge: String?
    var clientSecret: String
    /// Delayed payments: when the payment settles.
    var settlesAt: Int?
    var cardLast4: String?
    /// The attached payment method (`pm_…`); a decline detaches it, as Stripe does.
    var paymentMethod: String?
    var description: String?
    /// nil for the intents Checkout makes (Stripe shows null there too).
    var automaticPaymentMethods: AutomaticPaymentMethods?
    var paymentMethodTypes: [String] = ["card"]
    var captureMethod = "automatic"
    var confirmationMethod = "automatic"
    var receiptEmail: String?
    var statementDescriptor: String?
    var statementDescriptorSuffix: String?
    var setupFutureUsage: String?
    var canceledAt: Int?
    var cancellationReason: String?

    var json: StripeJSON {
        let error: StripeJSON =
            lastPaymentError.map { decline in
                var error: StripeJSON = [
                    "type": "card_error", "code": .string(decline.code), "message": .string(decline.message),
                    "doc_url": .string("https://stripe.com/docs/error-codes/\(decline.code.replacingOccurrences(of: "_", with: "-"))"),
                ]
                if let declineCode = decline.declineCode { error["decline_code"] = .string(declineCode) }
                if let param = decline.param { error["param"] = .string(param) }
                if let lastPaymentErrorCharge { error["charge"] = .string(lastPaymentErrorCharge) }
                if let lastPaymentErrorMethod { error["payment_method"] = lastPaymentErrorMethod.json }
                return error
            } ?? nil
        let automatic: StripeJSON =
            automaticPaymentMethods.map { ["allow_redirects": .optional($0.allowRedirects), "enabled": .bool($0.enabled)] } ?? nil
        return [
            "id": .string(id), "object": "payment_intent", "amount": .int(amount), "amount_capturable": 0,
            "amount_details": ["tip": [:]], "amount_received": .int(status == .succeeded ? amount : 0), "application": nil,
            "application_fee_amount": nil, "automatic_payment_methods": automatic, "canceled_at": .optional(canceledAt),
            "cancellation_reason": .optional(cancellationReason), "capture_method": .string(captureMethod),
            "client_secret": .string(clientSecret), "confirmation_method": .string(confirmationMethod),
            "created": .int(created), "currency": .string(currency), "customer": .optional(customer), "description": .optional(description),
            "invoice": nil, "last_payment_error": error, "latest_charge": .optional(latestCharge), "livemode": false,
            "metadata": .map(metadata), "next_action": nil, "on_behalf_of": nil, "payment_method": .optional(paymentMethod),
            "payment_method_configuration_details": nil,
            "payment_method_options": ["card": ["installments": nil, "mandate_options": nil, "network": nil, "request_three_d_secure": "automatic"]],
            "payment_method_types": .array(paymentMethodTypes.map(StripeJSON.string)),
            "processing": nil, "receipt_email": .optional(receiptEmail), "review": nil, "setup_future_usage": .optional(setupFutureUsage),
            "shipping": nil, "source": nil, "statement_descriptor": .optional(statementDescriptor),
            "statement_descriptor_suffix": .optional(statementDescriptorSuffix), "status": .string(status.rawValue),
            "transfer_data": nil, "transfer_group": nil,
        ]
    }
}

/// A card payment method (`pm_…`) made from one of Stripe's test payment methods (``TestPaymentMethod``): Stripe
/// answers every use of `pm_card_visa` with a fresh `pm_…` of that card, and so does the simulator.
struct PaymentMethod: StripeObject {
    var id: String
    var sequence: Int
    var created: Int
    var card: TestPaymentMethod

    var json: StripeJSON {
        [
            "id": .string(id), "object": "payment_method", "allow_redisplay": "unspecified",
            "billing_details": [
                "address": ["city": nil, "country": nil, "line1": nil, "line2": nil, "postal_code": nil, "state": nil], "email": nil,
                "name": nil, "phone": nil,
            ],
            "card": [
                "brand": .string(card.brand), "checks": ["address_line1_check": nil, "address_postal_code_check": nil, "cvc_check": "unchecked"],
                "country": "US", "exp_month": 12, "exp_year": 2034, "fingerprint": .string(card.fingerprint), "funding": .string(card.funding),
                "generated_from": nil, "last4": .string(card.last4), "networks": ["available": [.string(card.brand)], "preferred": nil],
                "three_d_secure_usage": ["supported": true], "wallet": nil,
            ],
            "created": .int(created), "customer": nil, "livemode": false, "metadata": [:], "type": "card",
        ]
    }
}

struct Charge: StripeObject {
    var id: String
    var sequence: Int
    var created: Int
    var amount: Int
    var currency: String
    var paymentIntent: String
    var metadata: [String: String]
    var customer: String?
    var amountRefunded = 0
    var refunds: [String] = []
    var last4: String
    /// The charges of declined attempts fail.
    var failure: TestCard.Decline?
    var brand = "visa"
    var paymentMethod: String?
    var description: String?

    var refunded: Bool { failure == nil && amountRefunded >= amount }

    func json(refunds refundObjects: [StripeJSON]) -> StripeJSON {
        let succeeded = failure == nil
        return [
            "id": .string(id), "object": "charge", "amount": .int(amount), "amount_captured": .int(succeeded ? amount : 0),
            "amount_refunded": .int(amountRefunded), "application": nil, "application_fee": nil, "application_fee_amount": nil,
            "balance_transaction": nil,
            "billing_details": [
                "address": ["city": nil, "country": nil, "line1": nil, "line2": nil, "postal_code": nil, "state": nil], "email": nil,
                "name": nil, "phone": nil,
            ],
            "calculated_statement_descriptor": "INTERCHANGE SIM", "captured": .bool(succeeded), "created": .int(created),
            "currency": .string(currency), "customer": .optional(customer), "description": .optional(description), "disputed": false,
            "failure_balance_transaction": nil, "failure_code": .optional(failure?.code), "failure_message": .optional(failure?.message),
            "fraud_details": [:], "invoice": nil, "livemode": false, "metadata": .map(metadata), "on_behalf_of": nil,
            "outcome": [
                "network_status": succeeded ? "approved_by_network" : "declined_by_network",
                "reason": .optional(failure?.declineCode), "risk_level": "normal",
                "seller_message": succeeded ? "Payment complete." : "The bank did not return any further details with this decline.",
                "type": succeeded ? "authorized" : "issuer_declined",
            ],
            "paid": .bool(succeeded), "payment_intent": .string(paymentIntent), "payment_method": .optional(paymentMethod),
            "payment_method_details": [
                "card": ["brand": .string(brand), "country": "US", "exp_month": 12, "exp_year": 2034, "funding": "credit", "last4": .string(last4)],
                "type": "card",
            ],
            "receipt_email": nil, "receipt_number": nil, "receipt_url": nil, "refunded": .bool(refunded),
            "refunds": [
                "object": "list", "data": .array(refundObjects), "has_more": false, "total_count": .int(refundObjects.count),
                "url": .string("/v1/charges/\(id)/refunds"),
            ],
            "review": nil, "shipping": nil, "source_transfer": nil, "statement_descriptor": nil, "statement_descriptor_suffix": nil,
            "status": succeeded ? "succeeded" : "failed", "transfer_data": nil, "transfer_group": nil,
        ]
    }

    var json: StripeJSON { json(refunds: []) }
}

struct Refund: StripeObject {
    var id: String
    var sequence: Int
    var created: Int
    var amount: Int
    var currency: String
    var charge: String
    var paymentIntent: String
    var reason: String?
    var metadata: [String: String]

    var json: StripeJSON {
        [
            "id": .string(id), "object": "refund", "amount": .int(amount), "balance_transaction": nil, "charge": .string(charge),
            "created": .int(created), "currency": .string(currency), "destination_details": ["card": ["type": "refund"], "type": "card"],
            "metadata": .map(metadata), "payment_intent": .string(paymentIntent), "reason": .optional(reason), "receipt_number": nil,
            "source_transfer_reversal": nil, "status": "succeeded", "transfer_reversal": nil,
        ]
    }
}

struct Customer: StripeObject {
    var id: String
    var sequence: Int
    var created: Int
    var email: String?
    var name: String?
    var description: String?
    var phone: String?
    var metadata: [String: String]

    var json: StripeJSON {
        [
            "id": .string(id), "object": "customer", "address": nil, "balance": 0, "created": .int(created), "currency": nil,
            "default_source": nil, "delinquent": false, "description": .optional(description), "discount": nil,
            "email": .optional(email), "invoice_prefix": .string(String(id.suffix(8)).uppercased()),
            "invoice_settings": ["custom_fields": nil, "default_payment_method": nil, "footer": nil, "rendering_options": nil],
            "livemode": false, "metadata": .map(metadata), "name": .optional(name), "next_invoice_sequence": 1,
            "phone": .optional(phone), "preferred_locales": [], "shipping": nil, "tax_exempt": "none", "test_clock": nil,
        ]
    }
}

/// A webhook endpoint as Stripe shows it; delivery itself is the `WebhookDeliveryEngine`'s (its endpoint
/// `engineID`, signed with the Stripe scheme and the same `whsec_` secret).
struct WebhookEndpointRecord: StripeObject {
    var id: String
    var engineID: String
    var sequence: Int
    var created: Int
    var url: String
    var enabledEvents: [String]
    var description: String?
    var metadata: [String: String]
    var apiVersion: String?

    func accepts(_ type: String) -> Bool {
        enabledEvents.contains { $0 == "*" || $0 == type }
    }

    var json: StripeJSON {
        [
            "id": .string(id), "object": "webhook_endpoint", "api_version": .optional(apiVersion), "application": nil,
            "created": .int(created), "description": .optional(description), "enabled_events": .array(enabledEvents.map(StripeJSON.string)),
            "livemode": false, "metadata": .map(metadata), "status": "enabled", "url": .string(url),
        ]
    }
}

struct StripeEvent: StripeObject {
    var id: String
    var sequence: Int
    var created: Int
    var type: String
    /// The object as it was when the event happened.
    var object: StripeJSON
    var requestID: String?
    var idempotencyKey: String?
    var pendingWebhooks: Int

    static let apiVersion = "2024-06-20"

    var json: StripeJSON {
        [
            "id": .string(id), "object": "event", "api_version": .string(Self.apiVersion), "created": .int(created),
            "data": ["object": object], "livemode": false, "pending_webhooks": .int(pendingWebhooks),
            "request": ["id": .optional(requestID), "idempotency_key": .optional(idempotencyKey)], "type": .string(type),
        ]
    }
}
