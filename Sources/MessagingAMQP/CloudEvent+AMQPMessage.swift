import Foundation
import Messaging

extension AMQPMessage {
    /// `event` as an AMQP message in `mode`: structured (the JSON envelope, `application/cloudevents+json`) or binary
    /// (attributes as `cloudEvents_…` headers, content type = `datacontenttype`, body = `data`). The message id is
    /// the event id and the AMQP `type` property the event type, in both modes.
    init(event: CloudEvent, mode: CloudEventMode) throws {
        switch mode {
        case .structured:
            contentType = CloudEvent.structuredContentType
            body = try event.jsonEncoded()
        case .binary:
            let binary = event.binaryMessage()
            contentType = binary.contentType
            body = binary.body
            headers = binary.properties.sorted { $0.key < $1.key }.map { AMQPHeader(key: $0.key, value: AMQPFieldValue($0.value)) }
        }
        messageID = event.id
        type = event.type
    }
}

extension AMQPFieldValue {
    init(_ attribute: CloudEventAttributeValue) {
        switch attribute {
        case .string(let string): self = .string(string)
        case .integer(let integer): self = .int(Int64(integer))
        case .boolean(let boolean): self = .bool(boolean)
        }
    }

    /// The CloudEvents attribute value a header carries (byte strings as UTF-8 text); nil for tables and arrays.
    var attributeValue: CloudEventAttributeValue? {
        switch self {
        case .string(let string): .string(string)
        case .bytes(let data): .string(String(decoding: data, as: UTF8.self))
        case .int(let integer): .integer(Int(integer))
        case .bool(let boolean): .boolean(boolean)
        case .double(let double): .string(String(double))
        case .timestamp(let seconds): .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
        case .array, .table, .void: nil
        }
    }
}

extension CloudEvent {
    /// Reads an event from an AMQP message in either mode: structured when the content type is
    /// `application/cloudevents+json`, binary otherwise (headers with the `cloudEvents_` or `cloudEvents:` prefix).
    init(amqpMessage message: AMQPMessage) throws {
        if let contentType = message.contentType?.lowercased(), contentType.hasPrefix("application/cloudevents") {
            guard contentType.hasPrefix(CloudEvent.structuredContentType) else {
                throw CloudEventValidationError(
                    attribute: "content-type",
                    reason: "\(contentType) is not supported (only \(CloudEvent.structuredContentType))"
                )
            }
            try self.init(jsonEncoded: message.body)
            return
        }
        var properties: [String: CloudEventAttributeValue] = [:]
        for header in message.headers where CloudEventBinaryMessage.acceptedPrefixes.contains(where: { header.key.hasPrefix($0) }) {
            if let value = header.value.attributeValue { properties[header.key] = value }
        }
        try self.init(binaryMessage: CloudEventBinaryMessage(properties: properties, contentType: message.contentType, body: message.body))
    }
}
