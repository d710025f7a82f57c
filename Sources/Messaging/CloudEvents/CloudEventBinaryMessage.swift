import Foundation

/// An event in the binary content mode of the CloudEvents AMQP protocol binding
/// (https://github.com/cloudevents/spec/blob/main/cloudevents/bindings/amqp-protocol-binding.md §3.1), independent of
/// any AMQP library: every attribute but `datacontenttype` is an application property named with a prefix,
/// `datacontenttype` is the message's content-type, and the body is `data` as it is.
///
/// ```swift
/// let message = event.binaryMessage()            // properties["cloudEvents_id"] == .string(event.id)
/// let received = try CloudEvent(binaryMessage: message)
/// ```
public struct CloudEventBinaryMessage: Sendable, Hashable {
    /// Application properties: `cloudEvents_id`, `cloudEvents_source`, …, extensions under the same prefix.
    public var properties: [String: CloudEventAttributeValue]
    /// The message's content-type: the event's `datacontenttype`.
    public var contentType: String?
    /// The event's `data` (empty when it has none).
    public var body: Data

    public init(properties: [String: CloudEventAttributeValue], contentType: String?, body: Data) {
        self.properties = properties
        self.contentType = contentType
        self.body = body
    }

    /// The prefix the binding prefers: `_` works with JMS 2.0 message selectors, where `:` is not allowed.
    public static let preferredPrefix = "cloudEvents_"
    /// The prefixes readers accept, preferred first: the AMQP binding's two separators, then `ce-`, the headers of
    /// the CloudEvents SDKs' RabbitMQ binding (the Python `cloudevents` package's `core.bindings.rabbitmq`).
    public static let acceptedPrefixes = ["cloudEvents_", "cloudEvents:", "ce-"]
}

extension CloudEvent {
    /// The event in the AMQP binding's binary mode. The binding allows `cloudEvents_` and `cloudEvents:` and prefers
    /// `cloudEvents_` (JMS 2.0 selectors cannot name a property with `:`), so that is the default; one message uses
    /// one prefix for all its attributes. `time` travels as its RFC 3339 string (a canonical form the binding allows).
    public func binaryMessage(prefix: String = CloudEventBinaryMessage.preferredPrefix) -> CloudEventBinaryMessage {
        var properties: [String: CloudEventAttributeValue] = [
            prefix + "specversion": .string(specversion),
            prefix + "id": .string(id),
            prefix + "source": .string(source),
            prefix + "type": .string(type),
        ]
        if let subject { properties[prefix + "subject"] = .string(subject) }
        if let time { properties[prefix + "time"] = .string(RFC3339Timestamp.string(from: time)) }
        if let dataschema { properties[prefix + "dataschema"] = .string(dataschema) }
        for (name, value) in extensions { properties[prefix + name] = value }
        return CloudEventBinaryMessage(properties: properties, contentType: datacontenttype, body: data ?? Data())
    }

    /// Reads an event in the AMQP binding's binary mode, with either prefix (`cloudEvents_` or `cloudEvents:`, and
    /// `ce-`; see ``CloudEventBinaryMessage/acceptedPrefixes``); properties without one are not the event's and are
    /// ignored. `time` may be an RFC 3339 string or an AMQP timestamp (an integer of milliseconds). An empty body is an event without `data`.
    /// Throws ``CloudEventValidationError`` naming a required attribute that is missing or a value of the wrong type.
    public init(binaryMessage message: CloudEventBinaryMessage) throws {
        var attributes: [String: CloudEventAttributeValue] = [:]
        var attributePrefix: [String: Int] = [:]
        for (key, value) in message.properties {
            guard let rank = CloudEventBinaryMessage.acceptedPrefixes.firstIndex(where: { key.hasPrefix($0) }) else { continue }
            let name = String(key.dropFirst(CloudEventBinaryMessage.acceptedPrefixes[rank].count))
            // A message uses one prefix; should one carry several, the preferred prefix wins, not dictionary order.
            if let taken = attributePrefix[name], taken <= rank { continue }
            attributes[name] = value
            attributePrefix[name] = rank
        }
        func string(_ name: String) throws -> String? {
            switch attributes.removeValue(forKey: name) {
            case nil: return nil
            case .string(let value): return value
            case .some(let value):
                throw CloudEventValidationError(attribute: name, reason: "must be a string, not \(value)")
            }
        }
        func required(_ name: String) throws -> String {
            guard let value = try string(name) else { throw CloudEventValidationError(attribute: name, reason: "is required") }
            return value
        }
        let specversion = try required("specversion")
        guard specversion == CloudEvent.specificationVersion else {
            throw CloudEventValidationError(attribute: "specversion", reason: "must be \"1.0\", not \"\(specversion)\"")
        }
        var time: Date?
        switch attributes.removeValue(forKey: "time") {
        case nil: break
        case .string(let value):
            guard let date = RFC3339Timestamp.date(from: value) else {
                throw CloudEventValidationError(attribute: "time", reason: "must be an RFC 3339 timestamp, not \"\(value)\"")
            }
            time = date
        case .integer(let milliseconds):
            // The binding's native form, an AMQP timestamp: milliseconds since the epoch (AMQP 1.0; what the Python
            // SDK writes). A transport reading AMQP 0-9-1's timestamp (seconds) converts it first.
            time = Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
        case .boolean:
            throw CloudEventValidationError(attribute: "time", reason: "must be a timestamp, not a boolean")
        }
        // A content type sent as a property too (some producers do) counts only when the message has none.
        let propertyContentType = try string("datacontenttype")
        let id = try required("id")
        let source = try required("source")
        let type = try required("type")
        let subject = try string("subject")
        let dataschema = try string("dataschema")
        self.init(
            id: id,
            source: source,
            type: type,
            subject: subject,
            time: time,
            datacontenttype: message.contentType ?? propertyContentType,
            dataschema: dataschema,
            extensions: attributes,
            data: message.body.isEmpty ? nil : message.body
        )
    }
}
