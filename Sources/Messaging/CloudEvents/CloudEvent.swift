import Foundation
import InterchangeCore

/// One event in the CloudEvents 1.0 envelope (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md):
/// what every Interchange transport carries and every consumer receives.
///
/// ```swift
/// let event = try CloudEvent(
///     source: "/orders", type: "com.example.order.created", subject: order.id,
///     json: OrderCreated(orderID: order.id, total: 4200)
/// )
/// ```
///
/// `data` holds the payload bytes as they travel — JSON text when `datacontenttype` is JSON (the default for
/// ``init(id:source:type:subject:time:dataschema:extensions:json:)``) — so a relay or a broker moves an event
/// without decoding its payload. ``validate()`` checks the attributes the specification requires.
public struct CloudEvent: Sendable, Hashable {
    /// Identifies the event; `source` + `id` is unique per distinct event (consumers dedupe on it).
    public var id: String
    /// A URI-reference naming the context in which the event happened (`/orders`, `urn:…`, `https://…`).
    public var source: String
    /// The CloudEvents specification version: `1.0`.
    public var specversion: String
    /// The kind of event, reverse-DNS by convention (`com.example.order.created`); the routing key on a broker.
    public var type: String
    /// What the event is about within the source (an order id, say): the aggregate whose events stay in order.
    public var subject: String?
    /// When it happened. The initializers round it to the microsecond, the precision RFC 3339 text carries here,
    /// so an event read back from either content mode equals the one written.
    public var time: Date?
    /// The media type of `data` (`application/json` when absent and `data` is JSON).
    public var datacontenttype: String?
    /// A URI of the schema `data` follows; Interchange's carry the schema's version.
    public var dataschema: String?
    /// Extension attributes (lower-case a–z and 0–9, at most 20 characters), e.g. `traceparent` and `tracestate`
    /// of the distributed-tracing extension.
    public var extensions: [String: CloudEventAttributeValue]
    /// The payload bytes, as they travel.
    public var data: Data?

    public init(
        id: String = CloudEvent.newID(),
        source: String,
        type: String,
        subject: String? = nil,
        time: Date? = Date(),
        datacontenttype: String? = nil,
        dataschema: String? = nil,
        extensions: [String: CloudEventAttributeValue] = [:],
        data: Data? = nil
    ) {
        self.id = id
        self.source = source
        self.specversion = CloudEvent.specificationVersion
        self.type = type
        self.subject = subject
        self.time = time.map(RFC3339Timestamp.microseconds)
        self.datacontenttype = datacontenttype
        self.dataschema = dataschema
        self.extensions = extensions
        self.data = data
    }

    /// The only version this type reads and writes.
    public static let specificationVersion = "1.0"

    /// A new random event id (URL-safe, 128 bits).
    public static func newID() -> String { UUID().uuidString.lowercased() }
}

/// The value of an extension attribute: CloudEvents' String, Integer or Boolean (URI, URI-reference and
/// Timestamp values travel as their canonical strings).
public enum CloudEventAttributeValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case boolean(Bool)

    /// The canonical string form (`true`, `42`, the string itself).
    public var description: String {
        switch self {
        case .string(let value): value
        case .integer(let value): String(value)
        case .boolean(let value): value ? "true" : "false"
        }
    }
}
