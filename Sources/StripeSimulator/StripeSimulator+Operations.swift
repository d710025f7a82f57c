import InterchangeCore
import WebhooksOutbound

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension StripeSimulator {
    /// The parameters `POST /v1/checkout/sessions` accepts (the others are `parameter_unknown`). Only
    /// `mode=payment` with `line_items[][price_data]` is simulated; the rest are accepted and ignored.
    static let sessionParameters: Set<String> = [
        "mode", "line_items", "success_url", "cancel_url", "client_reference_id", "metadata", "payment_intent_data", "expires_at",
        "customer", "customer_email", "payment_method_types", "expand", "locale", "submit_type", "billing_address_collection",
        "allow_promotion_codes", "currency", "ui_mode", "customer_creation", "phone_number_collection",
    ]

    func createSession(_ call: StripeAPICall) throws(StripeAPIError) -> StripeJSON {
        let p = call.parameters
        try p.requireOnly(Self.sessionParameters)
        let mode = try p.requiredString("mode")
        guard ["payment", "setup", "subscription"].contains(mode) else {
            throw .invalid("mode", "Invalid mode: must be one of payment, setup, or subscription")
        }
        guard mode == "payment" else { throw .invalid("mode", "The Stripe simulator supports only mode=payment, not mode=\(mode).") }
        if let uiMode = try p.string("ui_mode"), uiMode != "hosted" {
            throw .invalid("ui_mode", "The Stripe simulator supports only ui_mode=hosted, not ui_mode=\(uiMode).")
        }
        let successURL = try p.requiredString("success_url")
        try Self.requireURL(successURL, "success_url")
        let cancelURL = try p.string("cancel_url")
        if let cancelURL { try Self.requireURL(cancelURL, "cancel_url") }
        let clientReferenceID = try p.string("client_reference_id")
        if let clientReferenceID, clientReferenceID.count > 200 {
            throw .invalid("client_reference_id", "Invalid string: client_reference_id can be at most 200 characters long.")
        }
        let metadata = try p.metadata("metadata")
        let paymentIntentMetadata = try StripeParameters.metadata(p.node("payment_intent_data")?["metadata"], "payment_intent_data[metadata]")
        let customerEmail = try p.string("customer_email")
        let customer = try p.string("customer")
        if customer != nil && customerEmail != nil {
            throw StripeAPIError(
                status: .badRequest,
                code: "parameters_exclusive",
                message: "You may only specify one of these parameters: customer, customer_email.",
                param: "customer_email",
                isValidation: true
            )
        }
        let created = call.now
        var expiresAt = created + 24 * 3600
        if let requested = try p.int("expires_at") {
            // A minute of slack: a client computes "now + 30 min" on its own clock a moment before we read ours.
            guard requested >= created + 30 * 60 - 60 else {
                throw .invalid("expires_at", "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.")
            }
            guard requested <= created + 24 * 3600 + 60 else {
                throw .invalid("expires_at", "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.")
            }
            expiresAt = requested
        }
        let lineItems = try Self.lineItems(p.node("line_items"), created: created)
        let id = "cs_test_" + RandomIdentifier.random(length: 58)
        let hostedURL = configuration.publicBaseURL() + configuration.basePath + "/checkout/pay/" + id
        let json = try state.withStore { (store: inout StripeSimulatorState.Store) throws(StripeAPIError) -> StripeJSON in
            if let customer, store.customers[customer] == nil { throw .noSuch("customer", customer, param: "customer", status: .badRequest) }
            let session = CheckoutSession(
                id: id,
                sequence: store.nextSequence(),
                created: created,
                expiresAt: expiresAt,
                currency: lineItems[0].currency,
                lineItems: lineItems,
                successURL: successURL,
                cancelURL: cancelURL,
                clientReferenceID: clientReferenceID,
                metadata: metadata,
                paymentIntentMetadata: paymentIntentMetadata,
                customer: customer,
                customerEmail: customerEmail,
                hostedURL: hostedURL
            )
            store.sessions[id] = session
            return session.json
        }
        return try expanded(json, call)
    }

    static func requireURL(_ value: String, _ param: String) throws(StripeAPIError) {
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw .invalid(param, "Not a valid URL", code: "url_invalid")
        }
    }

    static func lineItems(_ node: StripeForm.Node?, created: Int) throws(StripeAPIError) -> [CheckoutLineItem] {
        guard let node else { throw .missing("line_items") }
        guard let list = node.list else { throw .invalid("line_items", "Invalid array") }
        guard !list.isEmpty else { throw .missing("line_items") }
        var items: [CheckoutLineItem] = []
        for (index, item) in list.enumerated() {
            let name = "line_items[\(index)]"
            guard item.isObject else { throw .invalid(name, "Invalid object") }
            if let price = try StripeParameters.string(item["price"], "\(name)[price]") {
                throw .noSuch("price", price, param: "\(name)[price]", status: .badRequest)
            }
            guard let priceData = item["price_data"] else { throw .missing("\(name)[price_data]") }
            let currency = try StripeParameters.requiredString(priceData["currency"], "\(name)[price_data][currency]").lowercased()
            guard currency.count == 3, currency.allSatisfy(\.isLetter) else {
                throw .invalid(
                    "\(name)[price_data][currency]",
                    "Invalid currency: \(currency). Stripe currently supports these currencies: usd, eur, gbp, …"
                )
            }
            let unitAmountNode = priceData["unit_amount"] ?? priceData["unit_amount_decimal"]
            let unitAmountName = priceData["unit_amount"] != nil ? "\(name)[price_data][unit_amount]" : "\(name)[price_data][unit_amount_decimal]"
            let unitAmount = try StripeParameters.requiredInt(unitAmountNode, unitAmountName)
            guard unitAmount >= 0 else {
                throw .invalid(unitAmountName, "This value must be greater than or equal to 0.", code: "parameter_invalid_integer")
            }
            guard unitAmount <= 99_999_999 else {
                throw .invalid(unitAmountName, "This value must be less than or equal to 99999999.", code: "parameter_invalid_integer")
            }
            if let product = try StripeParameters.string(priceData["product"], "\(name)[price_data][product]") {
                throw .noSuch("product", product, param: "\(name)[price_data][product]", status: .badRequest)
            }
            let productName = try StripeParameters.requiredString(priceData["product_data"]?["name"], "\(name)[price_data][product_data][name]")
            let quantity = try StripeParameters.requiredInt(item["quantity"], "\(name)[quantity]")
            guard quantity >= 1 else {
                throw .invalid("\(name)[quantity]", "This value must be greater than or equal to 1.", code: "parameter_invalid_integer")
            }
            guard quantity <= 999_999 else {
                throw .invalid("\(name)[quantity]", "This value must be less than or equal to 999999.", code: "parameter_invalid_integer")
            }
            if let first = items.first, first.currency != currency {
                throw .invalid("\(name)[price_data][currency]", "All line items must use the same currency; the first uses \(first.currency).")
            }
            items.append(
                CheckoutLineItem(
                    id: RandomIdentifier.make(prefix: "li", length: 24),
                    priceID: RandomIdentifier.make(prefix: "price", length: 24),
                    productID: RandomIdentifier.make(prefix: "prod", length: 14),
                    name: productName,
                    currency: currency,
                    unitAmount: unitAmount,
                    quantity: quantity,
                    created: created
                )
            )
        }
        return items
    }

    func listSessions(_ call: StripeAPICall) throws(StripeAPIError) -> StripeJSON {
        try list(call, "checkout.session", url: "/v1/checkout/sessions", filters: ["status", "payment_intent", "customer"]) {
            store,
            p throws(StripeAPIError) in
            let status = try p.string("status")
            if let status, !["open", "complete", "expired"].contains(status) {
                throw .invalid("status", "Invalid status: must be one of complete, expired, or open")
            }
            let intent = try p.string("payment_intent")
            let customer = try p.string("customer")
            return store.sessions.values.filter { session in
                (status == nil || session.status.rawValue == status)
                    && (intent == nil || (session.paymentAccepted && session.paymentIntentID == intent))
                    && (customer == nil || session.customer == customer)
            }
        }
    }

    func listLineItems(_ call: StripeAPICall) throws(StripeAPIError) -> StripeJSON {
        try call.parameters.requireOnly(ListParameters.names)
        let listing = try ListParameters(call.parameters)
        let id = call.pathID()
        guard let session = state.read({ $0.sessions[id] }) else { throw .noSuch("checkout.session", id) }
        // Line items keep the order they were given in (Stripe lists them so, not newest first).
        struct Item: StripeObject {
            var item: CheckoutLineItem
            var sequence: Int
            var id: String { item.id }
            var json: StripeJSON { item.json }
        }
        let items = session.lineItems.enumerated().map { Item(item: $1, sequence: session.lineItems.count - $0) }
        let sequences = Dictionary(uniqueKeysWithValues: items.map { ($0.id, $0.sequence) })
        let (page, hasMore) = try listing.page(items, objectName: "line item") { sequences[$0] }
        return try expanded(ListParameters.json(page.map(\.json), hasMore: hasMore, url: "/v1/checkout/sessions/\(id)/line_items"), call)
    }

    // MARK: Refunds

    func createRefund(_ call: StripeAPICall) async throws(StripeAPIError) -> StripeJSON {
        let p = call.parameters
        try p.requireOnly(["payment_intent", "charge", "amount", "reason", "metadata", "expand", "instructions_email"])
        let intentID = try p.string("payment_intent")
        let chargeID = try p.string("charge")
        let amount = try p.int("amount")
        let reason = try p.string("reason")
        if let reason, !["duplicate", "fraudulent", "requested_by_customer"].contains(reason) {
            throw .invalid("reason", "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer")
        }
        let metadata = try p.metadata("metadata")
        guard intentID != nil || chargeID != nil else {
            throw StripeAPIError(
                status: .badRequest,
                code: "parameter_missing",
                message: "One of the following params should be provided for this request: payment_intent or charge.",
                param: "payment_intent",
                isValidation: true
            )
        }
        if let amount, amount < 1 { throw .invalid("amount", "This value must be greater than or equal to 1.", code: "parameter_invalid_integer") }
        let (refund, events) = try state.withStore { (store: inout StripeSimulatorState.Store) throws(StripeAPIError) -> (Refund, [StripeEvent]) in
            var charge: Charge
            if let chargeID {
                guard let found = store.charges[chargeID] else { throw .noSuch("charge", chargeID, param: "charge", status: .badRequest) }
                if let intentID, found.paymentIntent != intentID {
                    throw .invalid("payment_intent", "The charge \(chargeID) does not belong to the PaymentIntent \(intentID).")
                }
                charge = found
            } else {
                let intentID = intentID ?? ""
                guard let intent = store.paymentIntents[intentID] else {
                    throw .noSuch("payment_intent", intentID, param: "payment_intent", status: .badRequest)
                }
                guard intent.status == .succeeded, let latest = intent.latestCharge, let found = store.charges[latest] else {
                    throw StripeAPIError(
                        status: .badRequest,
                        message: "This PaymentIntent (\(intentID)) does not have a successful charge to refund.",
                        param: "payment_intent"
                    )
                }
                charge = found
            }
            guard charge.failure == nil else {
                throw StripeAPIError(status: .badRequest, message: "Charge \(charge.id) has not succeeded and cannot be refunded.", param: "charge")
            }
            let remaining = charge.amount - charge.amountRefunded
            guard remaining > 0 else {
                throw StripeAPIError(
                    status: .badRequest,
                    code: "charge_already_refunded",
                    message: "Charge \(charge.id) has already been refunded.",
                    param: chargeID == nil ? "payment_intent" : "charge"
                )
            }
            let refundAmount = amount ?? remaining
            guard refundAmount <= remaining else {
                throw StripeAPIError(
                    status: .badRequest,
                    code: "amount_too_large",
                    message: "Refund amount (\(refundAmount)) is greater than unrefunded amount on charge (\(remaining)).",
                    param: "amount"
                )
            }
            let refund = Refund(
                id: RandomIdentifier.make(prefix: "re", length: 24),
                sequence: store.nextSequence(),
                created: call.now,
                amount: refundAmount,
                currency: charge.currency,
                charge: charge.id,
                paymentIntent: charge.paymentIntent,
                reason: reason,
                metadata: metadata
            )
            store.refunds[refund.id] = refund
            charge.amountRefunded += refundAmount
            charge.refunds.append(refund.id)
            store.charges[charge.id] = charge
            let refunded = store.record("charge.refunded", store.chargeJSON(charge.id) ?? charge.json, origin: call.origin, at: call.now)
            let created = store.record("refund.created", refund.json, origin: call.origin, at: call.now)
            return (refund, [refunded, created])
        }
        await publish(events)
        return try expanded(refund.json, call)
    }

    // MARK: Customers

    func createCustomer(_ call: StripeAPICall) async throws(StripeAPIError) -> StripeJSON {
        let p = call.parameters
        try p.requireOnly(["email", "name", "description", "phone", "metadata", "expand"])
        let customer = Customer(
            id: RandomIdentifier.make(prefix: "cus", length: 14),
            sequence: 0,
            created: call.now,
            email: try p.string("email"),
            name: try p.string("name"),
            description: try p.string("description"),
            phone: try p.string("phone"),
            metadata: try p.metadata("metadata")
        )
        let (stored, event) = try state.withStore { (store: inout StripeSimulatorState.Store) throws(StripeAPIError) -> (Customer, StripeEvent) in
            var customer = customer
            customer.sequence = store.nextSequence()
            store.customers[customer.id] = customer
            return (customer, store.record("customer.created", customer.json, origin: call.origin, at: call.now))
        }
        await publish([event])
        return try expanded(stored.json, call)
    }

    // MARK: Webhook endpoints

    func createWebhookEndpoint(_ call: StripeAPICall) async throws(StripeAPIError) -> StripeJSON {
        let p = call.parameters
        try p.requireOnly(["url", "enabled_events", "description", "metadata", "api_version", "connect", "expand"])
        let url = try p.requiredString("url")
        try Self.requireURL(url, "url")
        guard let eventsNode = p.node("enabled_events") else { throw .missing("enabled_events") }
        let listed: [StripeForm.Node]
        if eventsNode.string != nil {
            listed = [eventsNode]
        } else if let list = eventsNode.list {
            listed = list
        } else {
            throw .invalid("enabled_events", "Invalid array")
        }
        var enabledEvents: [String] = []
        for (index, element) in listed.enumerated() {
            let type = try StripeParameters.requiredString(element, "enabled_events[\(index)]")
            let isEventType = type.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_") }
            guard type == "*" || isEventType else {
                throw .invalid("enabled_events[\(index)]", "Invalid enabled_events[\(index)]: must be an event type or *")
            }
            enabledEvents.append(type)
        }
        guard !enabledEvents.isEmpty else { throw .missing("enabled_events") }
        let description = try p.string("description")
        let metadata = try p.metadata("metadata")
        let apiVersion = try p.string("api_version")
        let endpoint: WebhookEndpoint
        do {
            endpoint = try await engine.createEndpoint(url: url, description: description ?? "", eventTypes: enabledEvents, scheme: .stripe)
        } catch {
            throw StripeAPIError(status: .badRequest, code: "url_invalid", message: "Invalid URL: \(error)", param: "url")
        }
        let record = try state.withStore { (store: inout StripeSimulatorState.Store) throws(StripeAPIError) -> WebhookEndpointRecord in
            let record = WebhookEndpointRecord(
                id: Self.webhookEndpointID(engineID: endpoint.id),
                engineID: endpoint.id,
                sequence: store.nextSequence(),
                created: call.now,
                url: url,
                enabledEvents: enabledEvents,
                description: description,
                metadata: metadata,
                apiVersion: apiVersion
            )
            store.endpoints[record.id] = record
            return record
        }
        var json = record.json
        // Only the creation answer shows the secret, as Stripe does.
        json["secret"] = .string(endpoint.secret)
        return json
    }

    func deleteWebhookEndpoint(_ call: StripeAPICall) async throws(StripeAPIError) -> StripeJSON {
        try call.parameters.requireOnly([])
        let id = call.pathID()
        guard let record = state.read({ $0.endpoints[id] }) else { throw .noSuch("webhook_endpoint", id) }
        do {
            try await engine.deleteEndpoint(id: record.engineID)
        } catch WebhookAdminError.endpointNotFound {
            // Already gone from the engine: finish the deletion here.
        } catch {
            throw StripeAPIError(status: .internalServerError, type: "api_error", message: "Could not delete the webhook endpoint: \(error)")
        }
        _ = try state.withStore { (store: inout StripeSimulatorState.Store) throws(StripeAPIError) in store.endpoints.removeValue(forKey: id) }
        return ["id": .string(id), "object": "webhook_endpoint", "deleted": true]
    }
}
