import Foundation
import Messaging
import SQLKit

/// What an executor did for one ``SagaAction``: the events to send (appended to the outbox in the saga's
/// transaction), and — for a step done locally, in the same transaction — its outcome, applied at once.
///
/// ```swift
/// case .execute("charge-payment", let attempt):
///     return [try CloudEvent(source: "/orders", type: "command.charge-payment", subject: saga.sagaID, json: charge)]
/// case .execute("confirm", _):
///     try await saga.sql.update("orders").set("status", to: "CONFIRMED").where("id", .equal, saga.sagaID).run()
///     return .local(.succeeded(step: "confirm", messageID: "confirm:\(saga.sagaID)"), publishing: [confirmed])
/// ```
public struct SagaEffects: Sendable, ExpressibleByArrayLiteral {
    public var events: [CloudEvent]
    /// A local step's own outcome, applied to the instance right away (its actions are executed in turn).
    public var reply: SagaInput?

    public init(events: [CloudEvent] = [], reply: SagaInput? = nil) {
        self.events = events
        self.reply = reply
    }

    public init(arrayLiteral events: CloudEvent...) { self.init(events: events) }

    /// Nothing to send.
    public static let none = SagaEffects(events: [], reply: nil)

    /// A step done locally: its outcome, and the events to send with it.
    public static func local(_ reply: SagaInput, publishing events: [CloudEvent] = []) -> SagaEffects {
        SagaEffects(events: events, reply: reply)
    }
}

/// What an executor sees of the saga an action belongs to.
public struct SagaExecution<Context: Sendable>: Sendable {
    /// The saga's id (e.g. the order id; use it as the commands' `subject`).
    public let sagaID: String
    /// The context the saga was started with (e.g. the order).
    public let context: Context
    /// The instance after the input that produced the action (its log, status, the step's attempt).
    public let instance: SagaInstance
    /// The open transaction the instance will be saved in: a local step writes here, so it commits with the saga.
    public let sql: any SQLDatabase
}
