import Foundation

/// The event types a service publishes or consumes: each `type` string with its payload type and, optionally, the
/// URI of its schema (which carries the schema's version, e.g. `https://schemas.example.com/order.created/v2`).
///
/// A producer stamps events from it, so a payload type always travels under one `type` and `dataschema`; a consumer
/// bus with a non-empty registry dead-letters events of a type it does not know, and events whose `data` does not
/// decode as the registered payload type, instead of retrying what can never succeed.
///
/// ```swift
/// var registry = EventTypeRegistry()
/// registry.register(OrderCreated.self, type: "com.example.order.created", dataschema: "https://schemas.example.com/order.created/v2")
/// let event = try registry.event(OrderCreated(orderID: "o-1"), source: "/orders", subject: "o-1")
/// ```
public struct EventTypeRegistry: Sendable {
    /// One registered event type.
    public struct Entry: Sendable {
        public let type: String
        public let dataschema: String?
        /// The payload type's name, for messages.
        public let payloadName: String
        /// Decodes `data` as the payload type, throwing ``CloudEventValidationError`` naming `data` when it does not.
        let check: @Sendable (CloudEvent) throws -> Void
    }

    private var entriesByType: [String: Entry] = [:]
    private var entriesByPayload: [ObjectIdentifier: Entry] = [:]

    public init() {}

    /// Registers `payload` as the data of events of `type`. One type has one payload type: registering a second
    /// payload type for a type already taken is a programming error and traps. A payload type registered again
    /// (say under a new `dataschema` version) is stamped with the latest registration.
    public mutating func register<P: Codable & Sendable>(_ payload: P.Type, type: String, dataschema: String? = nil) {
        let entry = Entry(type: type, dataschema: dataschema, payloadName: String(describing: P.self)) { event in
            _ = try event.decodeData(as: P.self)
        }
        if let existing = entriesByType[type], existing.payloadName != entry.payloadName {
            preconditionFailure("event type \(type) is already registered for \(existing.payloadName), not \(entry.payloadName)")
        }
        entriesByType[type] = entry
        entriesByPayload[ObjectIdentifier(P.self)] = entry
    }

    /// Whether events of `type` were registered.
    public func isKnown(_ type: String) -> Bool { entriesByType[type] != nil }

    /// The registration of `type`, if any.
    public func entry(for type: String) -> Entry? { entriesByType[type] }

    /// Whether nothing was registered (a bus with an empty registry accepts every type).
    public var isEmpty: Bool { entriesByType.isEmpty }

    /// Every registered type.
    public var types: [String] { entriesByType.keys.sorted() }

    /// An event carrying `payload` as JSON, stamped with the `type` and `dataschema` its payload type was registered
    /// with. Throws ``CloudEventValidationError`` naming `type` when `P` was not registered.
    public func event<P: Codable & Sendable>(
        _ payload: P,
        source: String,
        subject: String? = nil,
        id: String = CloudEvent.newID(),
        time: Date? = Date(),
        extensions: [String: CloudEventAttributeValue] = [:]
    ) throws -> CloudEvent {
        guard let entry = entriesByPayload[ObjectIdentifier(P.self)] else {
            throw CloudEventValidationError(attribute: "type", reason: "no event type is registered for \(P.self)")
        }
        return try CloudEvent(
            id: id,
            source: source,
            type: entry.type,
            subject: subject,
            time: time,
            dataschema: entry.dataschema,
            extensions: extensions,
            json: payload
        )
    }
}
