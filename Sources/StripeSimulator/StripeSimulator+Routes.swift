import HTTPTypes
import Hummingbird
import InterchangeCore
import WebhooksOutbound

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension StripeSimulator {
    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        let api = router.group(RouterPath(configuration.basePath.isEmpty ? "v1" : "\(configuration.basePath)/v1"))
        func route(_ method: HTTPRequest.Method, _ path: String, _ operation: @escaping Operation) {
            api.on(RouterPath(path), method: method) { request, context in await self.handle(request, context, operation) }
        }
        route(.post, "checkout/sessions") { call throws(StripeAPIError) in try self.createSession(call) }
        route(.get, "checkout/sessions") { call throws(StripeAPIError) in try self.listSessions(call) }
        route(.get, "checkout/sessions/:id") { call throws(StripeAPIError) in
            try self.retrieve(call, "checkout.session") { $0.sessions[call.pathID()]?.json }
        }
        route(.post, "checkout/sessions/:id/expire") { call throws(StripeAPIError) in
            let (session, events) = try self.state.expire(sessionID: call.pathID(), origin: call.origin, now: call.now)
            await self.publish(events)
            return try self.expanded(session.json, call)
        }
        route(.get, "checkout/sessions/:id/line_items") { call throws(StripeAPIError) in try self.listLineItems(call) }

        route(.get, "payment_intents") { call throws(StripeAPIError) in
            try self.list(call, "payment_intent", url: "/v1/payment_intents", filters: ["customer"]) { store, parameters throws(StripeAPIError) in
                let customer = try parameters.string("customer")
                return store.paymentIntents.values.filter { customer == nil || $0.customer == customer }.map { $0 }
            }
        }
        route(.post, "payment_intents") { call throws(StripeAPIError) in try await self.createPaymentIntent(call) }
        route(.get, "payment_intents/:id") { call throws(StripeAPIError) in
            try self.retrieve(call, "payment_intent") { $0.paymentIntents[call.pathID()]?.json }
        }
        route(.post, "payment_intents/:id/confirm") { call throws(StripeAPIError) in try await self.confirmPaymentIntent(call) }
        route(.post, "payment_intents/:id/cancel") { call throws(StripeAPIError) in try await self.cancelPaymentIntent(call) }
        route(.get, "payment_methods/:id") { call throws(StripeAPIError) in
            try self.retrieve(call, "PaymentMethod") { $0.paymentMethods[call.pathID()]?.json }
        }
        route(.get, "charges") { call throws(StripeAPIError) in
            try self.list(call, "charge", url: "/v1/charges", filters: ["payment_intent", "customer"], render: { $1.chargeJSON($0.id) ?? $0.json }) {
                store,
                parameters throws(StripeAPIError) in
                let intent = try parameters.string("payment_intent")
                let customer = try parameters.string("customer")
                return store.charges.values.filter { (intent == nil || $0.paymentIntent == intent) && (customer == nil || $0.customer == customer) }
            }
        }
        route(.get, "charges/:id") { call throws(StripeAPIError) in try self.retrieve(call, "charge") { $0.chargeJSON(call.pathID()) } }

        route(.post, "refunds") { call throws(StripeAPIError) in try await self.createRefund(call) }
        route(.get, "refunds") { call throws(StripeAPIError) in
            try self.list(call, "refund", url: "/v1/refunds", filters: ["charge", "payment_intent"]) { store, parameters throws(StripeAPIError) in
                let charge = try parameters.string("charge")
                let intent = try parameters.string("payment_intent")
                return store.refunds.values.filter { (charge == nil || $0.charge == charge) && (intent == nil || $0.paymentIntent == intent) }
            }
        }
        route(.get, "refunds/:id") { call throws(StripeAPIError) in try self.retrieve(call, "refund") { $0.refunds[call.pathID()]?.json } }

        route(.get, "events") { call throws(StripeAPIError) in
            try self.list(call, "event", url: "/v1/events", filters: ["type", "types"]) { store, parameters throws(StripeAPIError) in
                var types: [String] = []
                if let type = try parameters.string("type") { types.append(type) }
                if let node = parameters.node("types") {
                    guard let list = node.list else { throw .invalid("types", "Invalid array") }
                    for (index, element) in list.enumerated() {
                        types.append(try StripeParameters.requiredString(element, "types[\(index)]"))
                    }
                }
                return store.events.values.filter { event in types.isEmpty || types.contains { Self.eventType(event.type, matches: $0) } }
            }
        }
        route(.get, "events/:id") { call throws(StripeAPIError) in try self.retrieve(call, "event") { $0.events[call.pathID()]?.json } }

        route(.post, "webhook_endpoints") { call throws(StripeAPIError) in try await self.createWebhookEndpoint(call) }
        route(.get, "webhook_endpoints") { call throws(StripeAPIError) in
            try self.list(call, "webhook_endpoint", url: "/v1/webhook_endpoints", filters: []) { store, _ in Array(store.endpoints.values) }
        }
        route(.get, "webhook_endpoints/:id") { call throws(StripeAPIError) in
            try self.retrieve(call, "webhook_endpoint") { $0.endpoints[call.pathID()]?.json }
        }
        route(.delete, "webhook_endpoints/:id") { call throws(StripeAPIError) in try await self.deleteWebhookEndpoint(call) }

        route(.post, "customers") { call throws(StripeAPIError) in try await self.createCustomer(call) }
        route(.get, "customers") { call throws(StripeAPIError) in
            try self.list(call, "customer", url: "/v1/customers", filters: ["email"]) { store, parameters throws(StripeAPIError) in
                let email = try parameters.string("email")
                return store.customers.values.filter { email == nil || $0.email == email }.map { $0 }
            }
        }
        route(.get, "customers/:id") { call throws(StripeAPIError) in try self.retrieve(call, "customer") { $0.customers[call.pathID()]?.json } }

        // Anything else under /v1: Stripe's answer for an unknown URL (after authentication, as Stripe does).
        for method in [HTTPRequest.Method.get, .post, .delete] {
            api.on("**", method: method) { request, context in
                await self.handle(request, context) { _ throws(StripeAPIError) in
                    throw .unrecognizedURL(method: method.rawValue, path: String(request.uri.path.dropFirst(self.configuration.basePath.count)))
                }
            }
        }

        addCheckoutPageRoutes(to: router)
        addControlRoutes(to: router)
    }

    /// `checkout.session.*` matches every `checkout.session.` type, as `GET /v1/events?type=` allows.
    static func eventType(_ type: String, matches filter: String) -> Bool {
        guard filter.hasSuffix("*") else { return type == filter }
        return type.hasPrefix(filter.dropLast())
    }

    // MARK: Generic retrieve and list

    func retrieve(
        _ call: StripeAPICall,
        _ objectName: String,
        _ find: (StripeSimulatorState.Store) -> StripeJSON?
    ) throws(StripeAPIError) -> StripeJSON {
        try call.parameters.requireOnly(["expand"])
        guard let json = state.read(find) else { throw .noSuch(objectName, call.pathID()) }
        return try expanded(json, call)
    }

    func list<T: StripeObject>(
        _ call: StripeAPICall,
        _ objectName: String,
        url: String,
        filters: Set<String>,
        render: @escaping (T, StripeSimulatorState.Store) -> StripeJSON = { object, _ in object.json },
        _ select: (StripeSimulatorState.Store, StripeParameters) throws(StripeAPIError) -> [T]
    ) throws(StripeAPIError) -> StripeJSON {
        try call.parameters.requireOnly(ListParameters.names.union(filters))
        let listing = try ListParameters(call.parameters)
        let json = try state.withStore { (store: inout StripeSimulatorState.Store) throws(StripeAPIError) -> StripeJSON in
            let all = try select(store, call.parameters)
            let everything = Self.sequences(of: objectName, in: store)
            let (page, hasMore) = try listing.page(all, objectName: objectName) { everything[$0] }
            return ListParameters.json(page.map { render($0, store) }, hasMore: hasMore, url: url)
        }
        return try expanded(json, call)
    }

    static func sequences(of objectName: String, in store: StripeSimulatorState.Store) -> [String: Int] {
        func index(_ objects: some Collection<some StripeObject>) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: objects.map { ($0.id, $0.sequence) })
        }
        switch objectName {
        case "checkout.session": return index(store.sessions.values)
        case "payment_intent": return index(store.paymentIntents.values)
        case "charge": return index(store.charges.values)
        case "refund": return index(store.refunds.values)
        case "event": return index(store.events.values)
        case "webhook_endpoint": return index(store.endpoints.values)
        case "customer": return index(store.customers.values)
        default: return [:]
        }
    }

    /// Applies `expand[]`: each dotted path replaces an id with its object (`payment_intent`,
    /// `payment_intent.latest_charge`, `data.customer` in lists); `line_items` adds a session's line items.
    func expanded(_ json: StripeJSON, _ call: StripeAPICall) throws(StripeAPIError) -> StripeJSON {
        let paths = try call.parameters.expand()
        guard !paths.isEmpty else { return json }
        return try state.withStore { (store: inout StripeSimulatorState.Store) throws(StripeAPIError) -> StripeJSON in
            var result = json
            for path in paths {
                guard let expanded = Self.expand(result, path: path.split(separator: ".").map(String.init)[...], store: store) else {
                    throw .invalid("expand", "This property cannot be expanded (\(path)).")
                }
                result = expanded
            }
            return result
        }
    }

    private static func expand(_ json: StripeJSON, path: ArraySlice<String>, store: StripeSimulatorState.Store) -> StripeJSON? {
        guard let field = path.first else { return json }
        let rest = path.dropFirst()
        if field == "data", case .array(let elements)? = json["data"], json["object"]?.string == "list" {
            var expandedElements: [StripeJSON] = []
            for element in elements {
                guard let expanded = expand(element, path: rest, store: store) else { return nil }
                expandedElements.append(expanded)
            }
            var result = json
            result["data"] = .array(expandedElements)
            return result
        }
        var result = json
        if field == "line_items", json["object"]?.string == "checkout.session", let id = json["id"]?.string, let session = store.sessions[id] {
            let items = ListParameters.json(
                session.lineItems.prefix(10).map(\.json),
                hasMore: session.lineItems.count > 10,
                url: "/v1/checkout/sessions/\(id)/line_items"
            )
            result["line_items"] = items
            return rest.isEmpty ? result : nil
        }
        guard let value = json[field] else { return nil }
        switch value {
        case .null:
            return result
        case .string(let id):
            guard let object = store.object(id: id), let expanded = expand(object, path: rest, store: store) else { return nil }
            result[field] = expanded
            return result
        case .object:
            guard let expanded = expand(value, path: rest, store: store) else { return nil }
            result[field] = expanded
            return result
        default:
            return nil
        }
    }
}
