import InterchangeCore
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every object the simulator holds, in memory, behind one lock. Each operation is one critical section that
/// changes objects and records the events the change causes, so an event always describes a state that existed.
///
/// Nothing here does I/O: the caller hands the returned events to the delivery engine.
final class StripeSimulatorState: Sendable {
    /// Who caused an event: an API request (`request.id`, `request.idempotency_key` on the event) or nobody
    /// (the hosted page, a sweep: both null, as Stripe shows automatic events).
    struct Origin: Sendable {
        var requestID: String?
        var idempotencyKey: String?
        static let automatic = Origin(requestID: nil, idempotencyKey: nil)
    }

    /// What a payment attempt did.
    enum PaymentOutcome: Sendable {
        case succeeded
        case declined(TestCard.Decline)
        case processing
    }

    /// A remembered response for an idempotency key.
    struct IdempotentResponse: Sendable {
        var status: Int
        var body: String
        var requestID: String
    }

    enum IdempotencyClaim: Sendable {
        /// Run the request, then ``finishIdempotent(scope:key:response:)`` or ``releaseIdempotent(scope:key:)``.
        case run
        case replay(IdempotentResponse)
        case mismatch
        case inProgress
    }

    struct IdempotencyRecord {
        var fingerprint: String
        var response: IdempotentResponse?
        var createdAt: Int
    }

    struct Store {
        var sequence = 0
        var sessions: [String: CheckoutSession] = [:]
        var paymentIntents: [String: PaymentIntent] = [:]
        var paymentMethods: [String: PaymentMethod] = [:]
        var charges: [String: Charge] = [:]
        var refunds: [String: Refund] = [:]
        var customers: [String: Customer] = [:]
        var events: [String: StripeEvent] = [:]
        var endpoints: [String: WebhookEndpointRecord] = [:]
        var idempotency: [String: IdempotencyRecord] = [:]
        /// Claims in the order they were made, so expiry looks only at the oldest (`idempotencyHead` is the first live one).
        var idempotencyOrder: [(createdAt: Int, id: String)] = []
        var idempotencyHead = 0
        /// Which session each payment intent pays.
        var sessionOfPaymentIntent: [String: String] = [:]

        mutating func nextSequence() -> Int {
            sequence += 1
            return sequence
        }

        func chargeJSON(_ id: String) -> StripeJSON? {
            guard let charge = charges[id] else { return nil }
            let refundObjects = charge.refunds.reversed().compactMap { refunds[$0]?.json }
            return charge.json(refunds: refundObjects)
        }

        /// Any object by id, for `expand` and for event payloads.
        func object(id: String) -> StripeJSON? {
            if id.hasPrefix("cs_") { return sessions[id]?.json }
            if id.hasPrefix("pi_") { return paymentIntents[id]?.json }
            if id.hasPrefix("pm_") { return paymentMethods[id]?.json }
            if id.hasPrefix("ch_") { return chargeJSON(id) }
            if id.hasPrefix("re_") { return refunds[id]?.json }
            if id.hasPrefix("cus_") { return customers[id]?.json }
            if id.hasPrefix("evt_") { return events[id]?.json }
            if id.hasPrefix("we_") { return endpoints[id]?.json }
            return nil
        }

        @discardableResult
        mutating func record(_ type: String, _ object: StripeJSON, origin: Origin, at now: Int) -> StripeEvent {
            let event = StripeEvent(
                id: RandomIdentifier.make(prefix: "evt", length: 24),
                sequence: nextSequence(),
                created: now,
                type: type,
                object: object,
                requestID: origin.requestID,
                idempotencyKey: origin.idempotencyKey,
                pendingWebhooks: endpoints.values.filter { $0.accepts(type) }.count
            )
            events[event.id] = event
            return event
        }
    }

    private let store = Mutex(Store())

    /// Reads or changes the store in one critical section.
    func withStore<R>(_ body: (inout Store) throws(StripeAPIError) -> R) throws(StripeAPIError) -> R {
        try store.withLock { (store: inout Store) throws(StripeAPIError) -> R in try body(&store) }
    }

    func read<R>(_ body: (Store) -> R) -> R {
        store.withLock { body($0) }
    }

    // MARK: Payments

    /// Pays an open session with `card`. Errors: the session is missing (404) or no longer open (400).
    func pay(
        sessionID: String,
        card: String,
        origin: Origin,
        now: Int,
        settlementDelay: Int
    ) throws(StripeAPIError) -> (
        PaymentOutcome, CheckoutSession, [StripeEvent]
    ) {
        try withStore { (store: inout Store) throws(StripeAPIError) in
            guard var session = store.sessions[sessionID] else { throw .noSuch("checkout.session", sessionID) }
            guard session.status == .open, session.expiresAt > now else {
                throw StripeAPIError(
                    status: .badRequest,
                    code: "checkout_session_not_open",
                    message: "This Checkout Session is \(session.status == .open ? "expired" : session.status.rawValue) and can no longer be paid.",
                    param: "card"
                )
            }
            var intent: PaymentIntent
            var created: StripeEvent?
            if let id = session.paymentIntentID, let existing = store.paymentIntents[id] {
                intent = existing
            } else {
                let id = RandomIdentifier.make(prefix: "pi", length: 24)
                intent = PaymentIntent(
                    id: id,
                    sequence: store.nextSequence(),
                    created: now,
                    amount: session.amountTotal,
                    currency: session.currency,
                    metadata: session.paymentIntentMetadata,
                    customer: session.customer,
                    clientSecret: "\(id)_secret_\(RandomIdentifier.random(length: 25))"
                )
                session.paymentIntentID = id
                store.sessionOfPaymentIntent[id] = session.id
                created = store.record("payment_intent.created", intent.json, origin: origin, at: now)
            }
            var events: [StripeEvent] = created.map { [$0] } ?? []
            let outcome: PaymentOutcome
            let testCard = TestCard(number: card)
            switch testCard {
            case .succeeds:
                let charge = Self.charge(for: intent, last4: TestCard.last4(card), failure: nil, store: &store, now: now)
                intent.status = .succeeded
                intent.lastPaymentError = nil
                intent.lastPaymentErrorCharge = nil
                intent.latestCharge = charge.id
                session.status = .complete
                session.paymentStatus = .paid
                session.paymentAccepted = true
                session.customerDetailsEmail = Self.email(of: session, in: store)
                store.paymentIntents[intent.id] = intent
                store.sessions[session.id] = session
                events.append(store.record("charge.succeeded", store.chargeJSON(charge.id) ?? charge.json, origin: origin, at: now))
                events.append(store.record("payment_intent.succeeded", intent.json, origin: origin, at: now))
                events.append(store.record("checkout.session.completed", session.json, origin: origin, at: now))
                outcome = .succeeded
            case .declines, .incorrectNumber:
                let decline: TestCard.Decline
                if case .declines(let reason) = testCard { decline = reason } else { decline = .incorrectNumber }
                let charge = Self.charge(for: intent, last4: TestCard.last4(card), failure: decline, store: &store, now: now)
                intent.status = .requiresPaymentMethod
                intent.lastPaymentError = decline
                intent.lastPaymentErrorCharge = charge.id
                intent.latestCharge = charge.id
                store.paymentIntents[intent.id] = intent
                store.sessions[session.id] = session
                events.append(store.record("charge.failed", store.chargeJSON(charge.id) ?? charge.json, origin: origin, at: now))
                events.append(store.record("payment_intent.payment_failed", intent.json, origin: origin, at: now))
                outcome = .declined(decline)
            case .settlesLater:
                intent.status = .processing
                intent.lastPaymentError = nil
                intent.settlesAt = now + settlementDelay
                intent.cardLast4 = TestCard.last4(card)
                session.status = .complete
                session.paymentStatus = .unpaid
                session.paymentAccepted = true
                session.customerDetailsEmail = Self.email(of: session, in: store)
                store.paymentIntents[intent.id] = intent
                store.sessions[session.id] = session
                events.append(store.record("checkout.session.completed", session.json, origin: origin, at: now))
                outcome = .processing
            }
            return (outcome, session, events)
        }
    }

    /// Settles delayed payments: those due at `now` (or every one when `now` is nil), or only `sessionID`'s.
    func settle(dueAt now: Int?, succeed: Bool, sessionID: String? = nil, at timestamp: Int) -> (settled: [String], events: [StripeEvent]) {
        store.withLock { store in
            let due = store.paymentIntents.values
                .filter { intent in
                    guard intent.status == .processing, let settlesAt = intent.settlesAt else { return false }
                    if let sessionID, store.sessionOfPaymentIntent[intent.id] != sessionID { return false }
                    return now.map { settlesAt <= $0 } ?? true
                }
                .sorted { $0.sequence < $1.sequence }
            var events: [StripeEvent] = []
            for var intent in due {
                intent.settlesAt = nil
                var session = store.sessionOfPaymentIntent[intent.id].flatMap { store.sessions[$0] }
                let chargeID: String
                if succeed {
                    let charge = Self.charge(for: intent, last4: intent.cardLast4 ?? "3220", failure: nil, store: &store, now: timestamp)
                    intent.status = .succeeded
                    intent.latestCharge = charge.id
                    session?.paymentStatus = .paid
                    chargeID = charge.id
                } else {
                    let decline = TestCard.Decline.generic
                    let charge = Self.charge(for: intent, last4: intent.cardLast4 ?? "3220", failure: decline, store: &store, now: timestamp)
                    intent.status = .requiresPaymentMethod
                    intent.lastPaymentError = decline
                    intent.lastPaymentErrorCharge = charge.id
                    intent.latestCharge = charge.id
                    chargeID = charge.id
                }
                store.paymentIntents[intent.id] = intent
                if let session { store.sessions[session.id] = session }
                if let charge = store.chargeJSON(chargeID) {
                    events.append(store.record(succeed ? "charge.succeeded" : "charge.failed", charge, origin: .automatic, at: timestamp))
                }
                events.append(
                    store.record(
                        succeed ? "payment_intent.succeeded" : "payment_intent.payment_failed",
                        intent.json,
                        origin: .automatic,
                        at: timestamp
                    )
                )
                if let session {
                    events.append(
                        store.record(
                            succeed ? "checkout.session.async_payment_succeeded" : "checkout.session.async_payment_failed",
                            session.json,
                            origin: .automatic,
                            at: timestamp
                        )
                    )
                }
            }
            return (due.map(\.id), events)
        }
    }

    /// Expires one open session (the API's expire), recording `checkout.session.expired`.
    func expire(sessionID: String, origin: Origin, now: Int) throws(StripeAPIError) -> (CheckoutSession, [StripeEvent]) {
        try withStore { (store: inout Store) throws(StripeAPIError) in
            guard var session = store.sessions[sessionID] else { throw .noSuch("checkout.session", sessionID) }
            guard session.status == .open else {
                throw StripeAPIError(
                    status: .badRequest,
                    message:
                        "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"\(session.status.rawValue)\"."
                )
            }
            session.status = .expired
            store.sessions[session.id] = session
            let event = store.record("checkout.session.expired", session.json, origin: origin, at: now)
            return (session, [event])
        }
    }

    /// Expires every open session whose `expires_at` has passed.
    func expireDue(now: Int) -> [StripeEvent] {
        store.withLock { store in
            let due = store.sessions.values.filter { $0.status == .open && $0.expiresAt <= now }.sorted { $0.sequence < $1.sequence }
            return due.map { session in
                var session = session
                session.status = .expired
                store.sessions[session.id] = session
                return store.record("checkout.session.expired", session.json, origin: .automatic, at: now)
            }
        }
    }

    static func charge(
        for intent: PaymentIntent,
        last4: String,
        failure: TestCard.Decline?,
        paymentMethod: PaymentMethod? = nil,
        store: inout Store,
        now: Int
    ) -> Charge {
        var charge = Charge(
            id: RandomIdentifier.make(prefix: "ch", length: 24),
            sequence: store.nextSequence(),
            created: now,
            amount: intent.amount,
            currency: intent.currency,
            paymentIntent: intent.id,
            metadata: intent.metadata,
            customer: intent.customer,
            last4: last4,
            failure: failure
        )
        if let paymentMethod {
            charge.brand = paymentMethod.card.brand
            charge.paymentMethod = paymentMethod.id
        }
        charge.description = intent.description
        store.charges[charge.id] = charge
        return charge
    }

    private static func email(of session: CheckoutSession, in store: Store) -> String? {
        session.customerEmail ?? session.customer.flatMap { store.customers[$0]?.email } ?? "customer@example.com"
    }

    // MARK: Idempotency

    /// Keys remembered at most; past that the oldest are forgotten first (Stripe keeps keys 24 h, whatever their number).
    static let maxIdempotencyKeys = 100_000

    /// Claims `key` within `scope` (the API key) for a request with `fingerprint`, forgetting keys older than 24 h.
    func claimIdempotent(scope: String, key: String, fingerprint: String, now: Int) -> IdempotencyClaim {
        store.withLock { store in
            Self.forgetOldIdempotencyKeys(&store, now: now)
            let id = "\(scope)\u{0}\(key)"
            guard let record = store.idempotency[id] else {
                store.idempotency[id] = IdempotencyRecord(fingerprint: fingerprint, response: nil, createdAt: now)
                store.idempotencyOrder.append((now, id))
                return .run
            }
            guard record.fingerprint == fingerprint else { return .mismatch }
            guard let response = record.response else { return .inProgress }
            return .replay(response)
        }
    }

    private static func forgetOldIdempotencyKeys(_ store: inout Store, now: Int) {
        while store.idempotencyHead < store.idempotencyOrder.count {
            let oldest = store.idempotencyOrder[store.idempotencyHead]
            guard now - oldest.createdAt >= 24 * 3600 || store.idempotency.count >= maxIdempotencyKeys else { break }
            // A key released and claimed again has a newer record: only the record this entry made is forgotten.
            if store.idempotency[oldest.id]?.createdAt == oldest.createdAt { store.idempotency.removeValue(forKey: oldest.id) }
            store.idempotencyHead += 1
        }
        if store.idempotencyHead > 1024 && store.idempotencyHead * 2 > store.idempotencyOrder.count {
            store.idempotencyOrder.removeFirst(store.idempotencyHead)
            store.idempotencyHead = 0
        }
    }

    func finishIdempotent(scope: String, key: String, response: IdempotentResponse) {
        store.withLock { $0.idempotency["\(scope)\u{0}\(key)"]?.response = response }
    }

    /// Forgets a claim whose request did not begin executing (its parameters were invalid), so it can be retried.
    func releaseIdempotent(scope: String, key: String) {
        _ = store.withLock { $0.idempotency.removeValue(forKey: "\(scope)\u{0}\(key)") }
    }
}
