import Foundation
import InterchangeCore
import Persistence
import SQLKit

/// The delivery engine's tables and every query on them, written once for SQLite and PostgreSQL.
///
/// Deliveries are claimed with a lease (`lease_until`): a worker that dies mid-delivery leaves the lease to
/// expire and another worker (or the restarted process) picks the delivery up, so nothing accepted is lost.
public struct WebhookStore: Sendable {
    public let database: Database
    /// How endpoint secrets are kept in `webhook_endpoints` (encrypted with a key, or as they are).
    public let sealer: SecretSealer

    public init(database: Database, sealer: SecretSealer = .plaintext) {
        self.database = database
        self.sealer = sealer
    }

    public static let migrations: [Migration] = [
        Migration("webhooks-outbound-1") { sql, _ in
            try await sql.create(table: "webhook_endpoints")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("url", type: .text, .notNull)
                .column("description", type: .text, .notNull)
                .column("event_types", type: .text, .notNull)
                .column("scheme", type: .text, .notNull)
                .column("secret", type: .text, .notNull)
                .column("previous_secret", type: .text)
                .column("previous_secret_expires_at", type: .bigint)
                .column("enabled", type: .int, .notNull)
                .column("disabled_reason", type: .text)
                .column("failing_since", type: .bigint)
                .column("max_concurrency", type: .int, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .column("updated_at", type: .bigint, .notNull)
                .run()
            try await sql.create(table: "webhook_messages")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("event_type", type: .text, .notNull)
                .column("payload", type: .blob, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
            try await sql.create(table: "webhook_deliveries")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("message_id", type: .text, .notNull)
                .column("endpoint_id", type: .text, .notNull)
                .column("event_type", type: .text, .notNull)
                .column("status", type: .text, .notNull)
                .column("attempts", type: .int, .notNull)
                .column("max_attempts", type: .int, .notNull)
                .column("next_attempt_at", type: .bigint)
                .column("lease_until", type: .bigint, .notNull)
                .column("last_status_code", type: .int)
                .column("last_error", type: .text)
                .column("created_at", type: .bigint, .notNull)
                .column("updated_at", type: .bigint, .notNull)
                .run()
            try await sql.create(index: "webhook_deliveries_due").on("webhook_deliveries").column("status").column("next_attempt_at").run()
            try await sql.create(index: "webhook_deliveries_endpoint").on("webhook_deliveries").column("endpoint_id").column("created_at").run()
            try await sql.create(index: "webhook_deliveries_message").unique().on("webhook_deliveries").column("message_id").column("endpoint_id")
                .run()
            try await sql.create(table: "webhook_attempts")
                .column("delivery_id", type: .text, .notNull)
                .column("attempt", type: .int, .notNull)
                .column("started_at", type: .bigint, .notNull)
                .column("duration_ms", type: .int, .notNull)
                .column("status_code", type: .int)
                .column("response_excerpt", type: .text)
                .column("error", type: .text)
                .primaryKey("delivery_id", "attempt")
                .run()
        }
    ]

    // MARK: Endpoints

    func insert(_ endpoint: WebhookEndpoint) async throws {
        try await database.withConnection { sql in
            try await sql.insert(into: "webhook_endpoints")
                .columns(
                    "id",
                    "url",
                    "description",
                    "event_types",
                    "scheme",
                    "secret",
                    "previous_secret",
                    "previous_secret_expires_at",
                    "enabled",
                    "disabled_reason",
                    "failing_since",
                    "max_concurrency",
                    "created_at",
                    "updated_at"
                )
                .values(try binds(endpoint))
                .run()
        }
    }

    func update(_ endpoint: WebhookEndpoint) async throws {
        try await database.withConnection { sql in
            try await update(endpoint, on: sql)
        }
    }

    func update(_ endpoint: WebhookEndpoint, on sql: any SQLDatabase) async throws {
        let (secret, previousSecret) = try sealedSecrets(endpoint)
        try await sql.update("webhook_endpoints")
            .set("url", to: SQLBind(endpoint.url))
            .set("description", to: SQLBind(endpoint.description))
            .set("event_types", to: SQLBind(Self.encodeTypes(endpoint.eventTypes)))
            .set("scheme", to: SQLBind(endpoint.scheme.rawValue))
            .set("secret", to: SQLBind(secret))
            .set("previous_secret", to: SQLBind(previousSecret))
            .set("previous_secret_expires_at", to: SQLBind(endpoint.previousSecretExpiresAt?.millisecondsSince1970))
            .set("enabled", to: SQLBind(endpoint.enabled ? 1 : 0))
            .set("disabled_reason", to: SQLBind(endpoint.disabledReason))
            .set("failing_since", to: SQLBind(endpoint.failingSince?.millisecondsSince1970))
            .set("max_concurrency", to: SQLBind(endpoint.maxConcurrency))
            .set("updated_at", to: SQLBind(endpoint.updatedAt.millisecondsSince1970))
            .where("id", .equal, endpoint.id)
            .run()
    }

    public func endpoint(id: String) async throws -> WebhookEndpoint? {
        try await database.withConnection { sql in
            try await endpoint(id: id, on: sql)
        }
    }

    func endpoint(id: String, on sql: any SQLDatabase) async throws -> WebhookEndpoint? {
        try await sql.select().column("*").from("webhook_endpoints").where("id", .equal, id).first().map(decodeEndpoint)
    }

    public func endpoints() async throws -> [WebhookEndpoint] {
        try await database.withConnection { sql in
            try await sql.select().column("*").from("webhook_endpoints").orderBy("created_at").orderBy("id").all().map(decodeEndpoint)
        }
    }

    func deleteEndpoint(id: String) async throws -> Bool {
        try await database.transaction { sql in
            let deleted = try await sql.delete(from: "webhook_endpoints").where("id", .equal, id).returning("id").first() != nil
            if deleted {
                // Pending deliveries to a deleted endpoint can never be made; end them, keep the log.
                try await sql.update("webhook_deliveries")
                    .set("status", to: SQLBind(WebhookDelivery.Status.failed.rawValue))
                    .set("last_error", to: SQLBind("endpoint deleted"))
                    .where("endpoint_id", .equal, id).where("status", .equal, WebhookDelivery.Status.pending.rawValue)
                    .run()
            }
            return deleted
        }
    }

    // MARK: Messages and deliveries

    /// Stores `message` and a delivery to each of `endpoints`, atomically; a message id seen before is not stored twice.
    /// Returns the deliveries created (none when the message id already existed).
    func publish(_ message: WebhookMessage, to endpoints: [WebhookEndpoint], maxAttempts: Int, now: Date) async throws -> [WebhookDelivery] {
        try await database.transaction { sql in
            let inserted = try await sql.insert(into: "webhook_messages")
                .columns("id", "event_type", "payload", "created_at")
                .values(SQLBind(message.id), SQLBind(message.eventType), SQLBind(message.payload), SQLBind(message.createdAt.millisecondsSince1970))
                .ignoringConflicts(with: ["id"])
                .returning("id")
                .first()
            guard inserted != nil else { return [] }
            var deliveries: [WebhookDelivery] = []
            for endpoint in endpoints {
                let delivery = WebhookDelivery(
                    id: RandomIdentifier.make(prefix: "dlv", length: 24),
                    messageID: message.id,
                    endpointID: endpoint.id,
                    eventType: message.eventType,
                    status: .pending,
                    attempts: 0,
                    maxAttempts: maxAttempts,
                    nextAttemptAt: now,
                    createdAt: now,
                    updatedAt: now
                )
                try await Self.insert(delivery, on: sql)
                deliveries.append(delivery)
            }
            return deliveries
        }
    }

    static func insert(_ delivery: WebhookDelivery, on sql: any SQLDatabase) async throws {
        try await sql.insert(into: "webhook_deliveries")
            .columns(
                "id",
                "message_id",
                "endpoint_id",
                "event_type",
                "status",
                "attempts",
                "max_attempts",
                "next_attempt_at",
                "lease_until",
                "created_at",
                "updated_at"
            )
            .values(
                SQLBind(delivery.id),
                SQLBind(delivery.messageID),
                SQLBind(delivery.endpointID),
                SQLBind(delivery.eventType),
                SQLBind(delivery.status.rawValue),
                SQLBind(delivery.attempts),
                SQLBind(delivery.maxAttempts),
                SQLBind(delivery.nextAttemptAt?.millisecondsSince1970),
                SQLBind(Int64(0)),
                SQLBind(delivery.createdAt.millisecondsSince1970),
                SQLBind(delivery.updatedAt.millisecondsSince1970)
            )
            .run()
    }

    /// A delivery claimed for one attempt, with what the attempt needs.
    struct Claim: Sendable {
        var delivery: WebhookDelivery
        var endpoint: WebhookEndpoint?
        var message: WebhookMessage?
    }

    /// Claims up to `limit` due deliveries for `lease`.
    func claimDue(limit: Int, lease: Duration, now: Date) async throws -> [Claim] {
        let timestamp = now.millisecondsSince1970
        let leaseUntil = timestamp + lease.milliseconds
        let lock = database.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await database.withConnection { sql in
            let rows = try await sql.raw(
                """
                UPDATE webhook_deliveries SET lease_until = \(bind: leaseUntil)
                WHERE id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= \(bind: timestamp) AND lease_until <= \(bind: timestamp)
                    ORDER BY next_attempt_at LIMIT \(bind: limit)\(unsafeRaw: lock)
                )
                RETURNING *
                """
            ).all()
            let deliveries = try rows.map(Self.decodeDelivery)
            guard !deliveries.isEmpty else { return [] }
            // Two set-based reads for the whole batch, rather than two per delivery.
            let messages = try await sql.select().column("*").from("webhook_messages")
                .where("id", .in, Array(Set(deliveries.map(\.messageID))))
                .all().map(Self.decodeMessage)
            let endpoints = try await sql.select().column("*").from("webhook_endpoints")
                .where("id", .in, Array(Set(deliveries.map(\.endpointID))))
                .all().map(decodeEndpoint)
            let messagesByID = Dictionary(messages.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let endpointsByID = Dictionary(endpoints.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            return deliveries.map { Claim(delivery: $0, endpoint: endpointsByID[$0.endpointID], message: messagesByID[$0.messageID]) }
        }
    }

    /// What an attempt's outcome does to its endpoint.
    package enum EndpointChange: Sendable, Hashable {
        case none
        /// A 2xx: the endpoint is healthy again.
        case succeeded
        /// A failure at `at`: starts (or continues) the endpoint's run of failures; disables it once the run
        /// is older than `disableAfter`.
        case failed(at: Date, disableAfter: Duration)
        /// Disable now (410 Gone).
        case disable(reason: String, at: Date)
    }

    /// The outcome of one claimed delivery, to record.
    struct Completion: Sendable {
        var delivery: WebhookDelivery
        var attempt: WebhookAttempt?
        var endpointChange: EndpointChange
    }

    /// Records a batch of outcomes in one transaction (one commit instead of one per delivery). Returns the
    /// endpoints these outcomes disabled, with the reason. Until it commits, the deliveries stay leased; a crash
    /// before the commit means they are attempted again — at-least-once, as webhooks are.
    func complete(_ completions: [Completion]) async throws -> [(endpointID: String, reason: String)] {
        guard !completions.isEmpty else { return [] }
        return try await database.transaction { sql in
            var disabled: [(String, String)] = []
            for completion in completions {
                if let reason = try await Self.record(
                    completion.delivery,
                    attempt: completion.attempt,
                    endpointChange: completion.endpointChange,
                    on: sql
                ) {
                    disabled.append((completion.delivery.endpointID, reason))
                }
            }
            return disabled
        }
    }

    /// Records an attempt and the delivery's and endpoint's new state, atomically.
    /// Returns the reason the endpoint was disabled, when this outcome disabled it.
    @discardableResult
    func complete(_ delivery: WebhookDelivery, attempt: WebhookAttempt?, endpointChange: EndpointChange) async throws -> String? {
        try await database.transaction { sql in
            try await Self.record(delivery, attempt: attempt, endpointChange: endpointChange, on: sql)
        }
    }

    private static func record(
        _ delivery: WebhookDelivery,
        attempt: WebhookAttempt?,
        endpointChange: EndpointChange,
        on sql: any SQLDatabase
    ) async throws
        -> String?
    {
        if let attempt {
            try await sql.insert(into: "webhook_attempts")
                .columns("delivery_id", "attempt", "started_at", "duration_ms", "status_code", "response_excerpt", "error")
                .values(
                    SQLBind(attempt.deliveryID),
                    SQLBind(attempt.attempt),
                    SQLBind(attempt.startedAt.millisecondsSince1970),
                    SQLBind(attempt.durationMilliseconds),
                    SQLBind(attempt.statusCode),
                    SQLBind(attempt.responseExcerpt),
                    SQLBind(attempt.error)
                )
                .ignoringConflicts(with: ["delivery_id", "attempt"])
                .run()
        }
        try await Self.save(delivery, on: sql)
        let id = delivery.endpointID
        switch endpointChange {
        case .none:
            return nil
        case .succeeded:
            try await sql.update("webhook_endpoints").set("failing_since", to: SQLLiteral.null).where("id", .equal, id).run()
            return nil
        case .failed(let at, let disableAfter):
            let since = try await sql.update("webhook_endpoints")
                .set(
                    SQLIdentifier("failing_since"),
                    to: SQLFunction("COALESCE", args: SQLIdentifier("failing_since"), SQLBind(at.millisecondsSince1970))
                )
                .where("id", .equal, id)
                .returning("failing_since", "enabled")
                .first()
            guard let since, try since.decode(column: "enabled", as: Int.self) != 0,
                let started = try since.decode(column: "failing_since", as: Int64?.self),
                at.millisecondsSince1970 - started >= disableAfter.milliseconds
            else { return nil }
            let reason = "every delivery has failed since \(Date(millisecondsSince1970: started).formatted(.iso8601))"
            try await Self.disable(id, reason: reason, at: at, on: sql)
            return reason
        case .disable(let reason, let at):
            try await Self.disable(id, reason: reason, at: at, on: sql)
            return reason
        }
    }

    static func disable(_ id: String, reason: String, at: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("webhook_endpoints")
            .set("enabled", to: SQLBind(0))
            .set("disabled_reason", to: SQLBind(reason))
            .set("updated_at", to: SQLBind(at.millisecondsSince1970))
            .where("id", .equal, id)
            .run()
    }

    static func save(_ delivery: WebhookDelivery, on sql: any SQLDatabase) async throws {
        try await sql.update("webhook_deliveries")
            .set("status", to: SQLBind(delivery.status.rawValue))
            .set("attempts", to: SQLBind(delivery.attempts))
            .set("max_attempts", to: SQLBind(delivery.maxAttempts))
            .set("next_attempt_at", to: SQLBind(delivery.nextAttemptAt?.millisecondsSince1970))
            .set("lease_until", to: SQLBind(Int64(0)))
            .set("last_status_code", to: SQLBind(delivery.lastStatusCode))
            .set("last_error", to: SQLBind(delivery.lastError))
            .set("updated_at", to: SQLBind(delivery.updatedAt.millisecondsSince1970))
            .where("id", .equal, delivery.id)
            .run()
    }

    public func delivery(id: String) async throws -> WebhookDelivery? {
        try await database.withConnection { sql in
            try await sql.select().column("*").from("webhook_deliveries").where("id", .equal, id).first().map(Self.decodeDelivery)
        }
    }

    /// Deliveries, newest first, optionally for one endpoint and in one status, created before `before`.
    public func deliveries(
        endpointID: String? = nil,
        status: WebhookDelivery.Status? = nil,
        before: Date? = nil,
        limit: Int = 50
    ) async throws
        -> [WebhookDelivery]
    {
        try await database.withConnection { sql in
            var query = sql.select().column("*").from("webhook_deliveries")
            if let endpointID { query = query.where("endpoint_id", .equal, endpointID) }
            if let status { query = query.where("status", .equal, status.rawValue) }
            if let before { query = query.where("created_at", .lessThan, before.millisecondsSince1970) }
            return try await query.orderBy("created_at", .descending).orderBy("id", .descending).limit(limit).all().map(Self.decodeDelivery)
        }
    }

    public func attempts(deliveryID: String) async throws -> [WebhookAttempt] {
        try await database.withConnection { sql in
            try await sql.select().column("*").from("webhook_attempts").where("delivery_id", .equal, deliveryID).orderBy("attempt").all()
                .map { row in
                    let row = try StoredRow(row, table: "webhook_attempts", idColumn: "delivery_id")
                    return WebhookAttempt(
                        deliveryID: row.id,
                        attempt: try row.decode("attempt"),
                        startedAt: try row.decodeDate("started_at"),
                        durationMilliseconds: try row.decode("duration_ms"),
                        statusCode: try row.decode("status_code"),
                        responseExcerpt: try row.decode("response_excerpt"),
                        error: try row.decode("error")
                    )
                }
        }
    }

    /// Makes failed deliveries due again, allowing one more attempt each. Returns how many.
    func replay(deliveryIDs: [String]? = nil, endpointID: String? = nil, failedSince: Date? = nil, now: Date) async throws -> Int {
        try await database.withConnection { sql in
            var query = sql.update("webhook_deliveries")
                .set("status", to: SQLBind(WebhookDelivery.Status.pending.rawValue))
                .set(SQLIdentifier("max_attempts"), to: SQLRaw("attempts + 1"))
                .set("next_attempt_at", to: SQLBind(now.millisecondsSince1970))
                .set("lease_until", to: SQLBind(Int64(0)))
                .set("updated_at", to: SQLBind(now.millisecondsSince1970))
                .where("status", .equal, WebhookDelivery.Status.failed.rawValue)
            if let deliveryIDs { query = query.where("id", .in, deliveryIDs) }
            if let endpointID { query = query.where("endpoint_id", .equal, endpointID) }
            if let failedSince { query = query.where("updated_at", .greaterThanOrEqual, failedSince.millisecondsSince1970) }
            return try await query.returning("id").all().count
        }
    }

    /// Counts of deliveries by status.
    public func deliveryCounts() async throws -> [WebhookDelivery.Status: Int] {
        try await database.withConnection { sql in
            var counts: [WebhookDelivery.Status: Int] = [:]
            for row in try await sql.raw("SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status").all() {
                let row = try StoredRow(row, table: "webhook_deliveries", idColumn: "status")
                counts[try row.decodeRawValue("status", as: WebhookDelivery.Status.self)] = try row.decode("n", as: Int.self)
            }
            return counts
        }
    }

    /// Checks that every stored endpoint secret opens with the configured key, and seals those still stored in
    /// plaintext (rows written before a key was configured). Returns how many endpoints were sealed.
    ///
    /// - Throws: ``SecretSealerError`` naming the first endpoint whose secret does not open: a wrong or missing
    ///   key is reported at start-up, not at the first delivery.
    @discardableResult
    public func sealPlaintextSecrets() async throws -> Int {
        try await database.withConnection { sql in
            var sealed = 0
            for row in try await sql.select().columns("id", "secret", "previous_secret").from("webhook_endpoints").all() {
                let id = try row.decode(column: "id", as: String.self)
                let secret = try row.decode(column: "secret", as: String.self)
                let previous = try row.decode(column: "previous_secret", as: String?.self)
                let plainSecret = try sealer.open(secret, endpointID: id, column: "secret")
                let plainPrevious = try previous.map { try sealer.open($0, endpointID: id, column: "previous_secret") }
                let needsSealing = !SecretSealer.isSealed(secret) || previous.map { !SecretSealer.isSealed($0) } == true
                guard sealer.seals, needsSealing else { continue }
                try await sql.update("webhook_endpoints")
                    .set("secret", to: SQLBind(try sealer.seal(plainSecret, endpointID: id, column: "secret")))
                    .set("previous_secret", to: SQLBind(try plainPrevious.map { try sealer.seal($0, endpointID: id, column: "previous_secret") }))
                    .where("id", .equal, id)
                    .where("secret", .equal, secret)  // unchanged since read: a concurrent rotation wins
                    .run()
                sealed += 1
            }
            return sealed
        }
    }

    // MARK: Rows

    func binds(_ endpoint: WebhookEndpoint) throws -> [any SQLExpression] {
        let (secret, previousSecret) = try sealedSecrets(endpoint)
        return [
            SQLBind(endpoint.id), SQLBind(endpoint.url), SQLBind(endpoint.description), SQLBind(Self.encodeTypes(endpoint.eventTypes)),
            SQLBind(endpoint.scheme.rawValue), SQLBind(secret), SQLBind(previousSecret),
            SQLBind(endpoint.previousSecretExpiresAt?.millisecondsSince1970), SQLBind(endpoint.enabled ? 1 : 0),
            SQLBind(endpoint.disabledReason), SQLBind(endpoint.failingSince?.millisecondsSince1970), SQLBind(endpoint.maxConcurrency),
            SQLBind(endpoint.createdAt.millisecondsSince1970), SQLBind(endpoint.updatedAt.millisecondsSince1970),
        ]
    }

    static func encodeTypes(_ types: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(types)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// The endpoint's current and previous secrets as they are stored.
    private func sealedSecrets(_ endpoint: WebhookEndpoint) throws -> (String, String?) {
        (
            try sealer.seal(endpoint.secret, endpointID: endpoint.id, column: "secret"),
            try endpoint.previousSecret.map { try sealer.seal($0, endpointID: endpoint.id, column: "previous_secret") }
        )
    }

    func decodeEndpoint(_ row: any SQLRow) throws -> WebhookEndpoint {
        let row = try StoredRow(row, table: "webhook_endpoints")
        let id = row.id
        return WebhookEndpoint(
            id: id,
            url: try row.decode("url"),
            description: try row.decode("description"),
            eventTypes: try row.decodeJSON("event_types"),
            scheme: try row.decodeRawValue("scheme"),
            secret: try sealer.open(try row.decode("secret"), endpointID: id, column: "secret"),
            previousSecret: try row.decode("previous_secret", as: String?.self).map {
                try sealer.open($0, endpointID: id, column: "previous_secret")
            },
            previousSecretExpiresAt: try row.decodeDateIfPresent("previous_secret_expires_at"),
            enabled: try row.decode("enabled", as: Int.self) != 0,
            disabledReason: try row.decode("disabled_reason"),
            failingSince: try row.decodeDateIfPresent("failing_since"),
            maxConcurrency: try row.decode("max_concurrency"),
            createdAt: try row.decodeDate("created_at"),
            updatedAt: try row.decodeDate("updated_at")
        )
    }

    static func decodeDelivery(_ row: any SQLRow) throws -> WebhookDelivery {
        let row = try StoredRow(row, table: "webhook_deliveries")
        return WebhookDelivery(
            id: row.id,
            messageID: try row.decode("message_id"),
            endpointID: try row.decode("endpoint_id"),
            eventType: try row.decode("event_type"),
            status: try row.decodeRawValue("status"),
            attempts: try row.decode("attempts"),
            maxAttempts: try row.decode("max_attempts"),
            nextAttemptAt: try row.decodeDateIfPresent("next_attempt_at"),
            lastStatusCode: try row.decode("last_status_code"),
            lastError: try row.decode("last_error"),
            createdAt: try row.decodeDate("created_at"),
            updatedAt: try row.decodeDate("updated_at")
        )
    }

    static func decodeMessage(_ row: any SQLRow) throws -> WebhookMessage {
        let row = try StoredRow(row, table: "webhook_messages")
        return WebhookMessage(
            id: row.id,
            eventType: try row.decode("event_type"),
            payload: try row.decode("payload"),
            createdAt: try row.decodeDate("created_at")
        )
    }
}
