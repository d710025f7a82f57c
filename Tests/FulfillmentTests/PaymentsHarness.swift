import Foundation
import FulfillmentEvents
import InterchangeTesting
import Logging
import Messaging
import Persistence
import SQLKit

@testable import FulfillmentPayments

/// What the payments tests share: messages as CloudEvents from their real senders, a processor on a fresh
/// database, and bounded polling.
enum PaymentsHarness {
    static var logger: Logger {
        var logger = Logger(label: "test.payments")
        logger.logLevel = .error
        return logger
    }

    /// `message` as the service `from` sends it.
    static func event<M: FulfillmentMessage>(
        _ message: M,
        from service: FulfillmentService = .orders,
        id: String = CloudEvent.newID()
    ) throws -> CloudEvent {
        try FulfillmentEvents.event(message, from: service, id: id)
    }

    /// A processor over `provider` on `database` (migrated like the component migrates it).
    static func processor(
        database: Database,
        provider: any PaymentProvider,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws
        -> PaymentProcessor
    {
        let store = PaymentStore(database: database)
        try await store.prepare()
        try await database.migrate(Outbox.migrations)
        try await database.migrate(Inbox.migrations)
        return PaymentProcessor(
            store: store,
            provider: provider,
            inbox: Inbox(consumer: PaymentsComponent.group, now: now),
            outbox: Outbox(now: now),
            now: now,
            logger: logger
        )
    }

    /// The answers `outcome` carried (failing when the message was a duplicate).
    static func answers(_ outcome: PaymentProcessor.Outcome) throws -> [CloudEvent] {
        guard case .handled(let answers) = outcome else { throw PaymentsTestError("expected the message to be handled, it was a duplicate") }
        return answers
    }

    /// The only answer of `outcome`, decoded as `M` (failing on any other count or type).
    static func only<M: FulfillmentMessage>(_ outcome: PaymentProcessor.Outcome, as type: M.Type) throws -> M {
        let answers = try answers(outcome)
        guard answers.count == 1, let answer = answers.first else { throw PaymentsTestError("expected one answer, got \(answers.map(\.type))") }
        guard answer.type == M.type else { throw PaymentsTestError("expected \(M.type), got \(answer.type)") }
        guard answer.source == FulfillmentService.payments.source, answer.subject == (try answer.decodeData(as: M.self)).orderId else {
            throw PaymentsTestError("answer has source \(answer.source) and subject \(answer.subject ?? "nil")")
        }
        return try answer.decodeData(as: M.self)
    }

    /// Rows of the outbox, in order: (type, order id).
    static func outbox(_ database: Database) async throws -> [(type: String, subject: String?)] {
        try await database.withConnection { sql in
            try await sql.raw("SELECT type, subject FROM messaging_outbox ORDER BY seq").all().map {
                (try $0.decode(column: "type", as: String.self), try $0.decode(column: "subject", as: String?.self))
            }
        }
    }

    static func inboxCount(_ database: Database) async throws -> Int {
        try await database.withConnection { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM messaging_inbox").first()?.decode(column: "n", as: Int.self) ?? -1
        }
    }

    /// Polls `condition` every 5 ms until it holds; throws after `timeout` of real time.
    static func eventually(
        _ description: String,
        timeout: Duration = .seconds(15),
        _ condition: @Sendable () async throws -> Bool
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while try await !condition() {
            guard clock.now < deadline else { throw PaymentsTestError("timed out after \(timeout) waiting until \(description)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

struct PaymentsTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
