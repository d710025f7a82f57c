import Foundation
import Messaging

/// The contract the four fulfillment services share: every event and command that travels between them, as a
/// `Codable` payload with its CloudEvents `type` and versioned `dataschema` (JSON Schema draft 2020-12 in
/// `schemas/events/<name>.v1.json`). Built on `Messaging`'s ``CloudEvent`` and ``EventTypeRegistry``.
///
/// ```swift
/// let event = try FulfillmentEvents.event(OrderConfirmed(orderId: "o-1"), from: .orders)
/// // type com.interchange.fulfillment.order.confirmed, subject o-1, source /fulfillment/orders
/// ```
public protocol FulfillmentMessage: Codable, Sendable, Hashable {
    /// The short name, e.g. `order.created` or `command.reserve-inventory`.
    static var name: String { get }
    /// The order the message is about: the event's `subject`.
    var orderId: String { get }
}

extension FulfillmentMessage {
    /// `com.interchange.fulfillment.<name>`.
    public static var type: String { FulfillmentEvents.typePrefix + name }
    /// `urn:interchange:schema:fulfillment:<name>:1`, the `$id` of `schemas/events/<name>.v1.json`.
    public static var dataschema: String { "urn:interchange:schema:fulfillment:\(name):\(schemaVersion)" }
    /// The schema version carried by ``dataschema``.
    public static var schemaVersion: Int { 1 }
    /// The schema's file name under `schemas/events/`.
    public static var schemaFileName: String { "\(name).v\(schemaVersion).json" }
}

/// A service of the fulfillment system, the `source` of the events it emits (`/fulfillment/<service>`).
public enum FulfillmentService: String, Sendable, Hashable, CaseIterable, Codable {
    case users, orders, inventory, payments

    /// `/fulfillment/<service>`.
    public var source: String { "/fulfillment/\(rawValue)" }
    /// The consumer group of the service's consumers: `fulfillment.<service>`.
    public var consumerGroup: String { "fulfillment.\(rawValue)" }
}

/// The style a saga runs in, a setting (`fulfillment.sagaStyle`) carried in ``OrderCreated`` so participants know
/// whether to react to events (choreography) or wait for commands (orchestration).
public enum FulfillmentSagaStyle: String, Sendable, Hashable, CaseIterable, Codable {
    case orchestration, choreography
}

/// The registry of every fulfillment message and helpers to build their CloudEvents.
public enum FulfillmentEvents {
    /// Every type starts with it: `com.interchange.fulfillment.`.
    public static let typePrefix = "com.interchange.fulfillment."

    /// The events of the saga (what happened), in the order a happy path and its compensations emit them.
    public static let eventTypes: [any FulfillmentMessage.Type] = [
        OrderCreated.self, InventoryReserved.self, InventoryReservationFailed.self, PaymentProcessed.self, PaymentFailed.self,
        OrderConfirmed.self, OrderCancelled.self, InventoryReleased.self, PaymentRefunded.self,
    ]

    /// The commands orchestration sends (what to do).
    public static let commandTypes: [any FulfillmentMessage.Type] = [
        ReserveInventory.self, ReleaseInventory.self, ChargePayment.self, RefundPayment.self,
    ]

    /// Events and commands.
    public static let allTypes: [any FulfillmentMessage.Type] = eventTypes + commandTypes

    /// A registry with every event and command, each stamped with its `dataschema`. Give it to an ``EventBus`` so
    /// unknown types and undecodable payloads are dead-lettered at once.
    public static let registry: EventTypeRegistry = {
        var registry = EventTypeRegistry()
        for message in allTypes { register(message, in: &registry) }
        return registry
    }()

    private static func register<M: FulfillmentMessage>(_ message: M.Type, in registry: inout EventTypeRegistry) {
        registry.register(M.self, type: M.type, dataschema: M.dataschema)
    }

    /// The CloudEvent carrying `message`: type and dataschema from the message type, `subject` = its order id,
    /// `source` = `/fulfillment/<service>`.
    public static func event<M: FulfillmentMessage>(
        _ message: M,
        from service: FulfillmentService,
        id: String = CloudEvent.newID(),
        time: Date? = Date()
    ) throws -> CloudEvent {
        try CloudEvent(
            id: id,
            source: service.source,
            type: M.type,
            subject: message.orderId,
            time: time,
            dataschema: M.dataschema,
            json: message
        )
    }

    /// The message type registered for a CloudEvent `type`, if any.
    public static func messageType(for type: String) -> (any FulfillmentMessage.Type)? {
        allTypes.first { $0.type == type }
    }
}

extension FulfillmentMessage {
    /// This message as a CloudEvent from `service` (see ``FulfillmentEvents/event(_:from:id:time:)``).
    public func cloudEvent(from service: FulfillmentService, id: String = CloudEvent.newID(), time: Date? = Date()) throws -> CloudEvent {
        try FulfillmentEvents.event(self, from: service, id: id, time: time)
    }
}
