import Foundation

/// A Stripe event payload that is not an event the shop can read; `field` is the JSON path that is wrong.
public struct StripeEventDecodingError: Error, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "Stripe event field \(field): \(reason)" }
}

extension StripeEvent {
    /// Decodes an event from Stripe's JSON. Objects other than checkout sessions, payment intents and charges are
    /// kept as ``Object/other(objectType:)``.
    ///
    /// - Throws: ``StripeEventDecodingError`` naming the field that is missing or of the wrong type.
    public init(json: Data) throws {
        do {
            self = try JSONDecoder().decode(Envelope.self, from: json).event
        } catch let error as DecodingError {
            throw StripeEventDecodingError(decodingError: error)
        } catch let error as StripeEventDecodingError {
            throw error
        } catch {
            throw StripeEventDecodingError(field: "(body)", reason: "\(error)")
        }
    }
}

extension StripeEventDecodingError {
    init(decodingError: DecodingError) {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (last.map { [$0] } ?? [])
            let joined = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? "(body)" : joined.replacingOccurrences(of: ".[", with: "[")
        }
        switch decodingError {
        case .keyNotFound(let key, let context):
            self.init(field: path(context.codingPath, key), reason: "is missing")
        case .valueNotFound(let type, let context):
            self.init(field: path(context.codingPath), reason: "is null, expected \(type)")
        case .typeMismatch(let type, let context):
            self.init(field: path(context.codingPath), reason: "is not \(type)")
        case .dataCorrupted(let context):
            self.init(field: path(context.codingPath), reason: context.debugDescription)
        @unknown default:
            self.init(field: "(body)", reason: "\(decodingError)")
        }
    }
}

/// `{"id","object":"event","type","created","data":{"object":{…}}}`
private struct Envelope: Decodable {
    var event: StripeEvent

    enum CodingKeys: String, CodingKey { case id, object, type, created, data }
    enum DataKeys: String, CodingKey { case object }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let object = try container.decode(String.self, forKey: .object)
        guard object == "event" else {
            throw DecodingError.dataCorruptedError(forKey: .object, in: container, debugDescription: "is '\(object)', not 'event'")
        }
        let data = try container.nestedContainer(keyedBy: DataKeys.self, forKey: .data)
        event = StripeEvent(
            id: try container.decode(String.self, forKey: .id),
            type: try container.decode(String.self, forKey: .type),
            created: Date(timeIntervalSince1970: TimeInterval(try container.decode(Int64.self, forKey: .created))),
            object: try data.decode(DataObject.self, forKey: .object).object
        )
    }
}

/// `data.object`, decoded by its `object` field.
private struct DataObject: Decodable {
    var object: StripeEvent.Object

    enum Keys: String, CodingKey {
        case id, object, status, amount, currency, metadata, refunded
        case paymentStatus = "payment_status"
        case amountTotal = "amount_total"
        case clientReferenceID = "client_reference_id"
        case paymentIntent = "payment_intent"
        case amountReceived = "amount_received"
        case lastPaymentError = "last_payment_error"
        case amountRefunded = "amount_refunded"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let type = try c.decodeIfPresent(String.self, forKey: .object)
        switch type {
        case "checkout.session":
            object = .checkoutSession(
                StripeEvent.CheckoutSession(
                    id: try c.decode(String.self, forKey: .id),
                    status: try c.decodeIfPresent(String.self, forKey: .status),
                    paymentStatus: try c.decode(String.self, forKey: .paymentStatus),
                    amountTotal: try c.decodeIfPresent(Int.self, forKey: .amountTotal),
                    currency: try c.decodeIfPresent(String.self, forKey: .currency),
                    metadata: try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:],
                    clientReferenceID: try c.decodeIfPresent(String.self, forKey: .clientReferenceID),
                    paymentIntent: try c.decodeIfPresent(ExpandableID.self, forKey: .paymentIntent)?.id
                )
            )
        case "payment_intent":
            object = .paymentIntent(
                StripeEvent.PaymentIntent(
                    id: try c.decode(String.self, forKey: .id),
                    status: try c.decodeIfPresent(String.self, forKey: .status),
                    amount: try c.decode(Int.self, forKey: .amount),
                    amountReceived: try c.decodeIfPresent(Int.self, forKey: .amountReceived),
                    currency: try c.decode(String.self, forKey: .currency),
                    metadata: try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:],
                    lastPaymentError: try c.decodeIfPresent(StripeEvent.PaymentError.self, forKey: .lastPaymentError)
                )
            )
        case "charge":
            object = .charge(
                StripeEvent.Charge(
                    id: try c.decode(String.self, forKey: .id),
                    paymentIntent: try c.decodeIfPresent(ExpandableID.self, forKey: .paymentIntent)?.id,
                    amount: try c.decode(Int.self, forKey: .amount),
                    amountRefunded: try c.decode(Int.self, forKey: .amountRefunded),
                    refunded: try c.decode(Bool.self, forKey: .refunded),
                    currency: try c.decode(String.self, forKey: .currency),
                    metadata: try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
                )
            )
        default:
            object = .other(objectType: type)
        }
    }
}

/// A reference Stripe sends as an id string, or as the object itself when expanded.
private struct ExpandableID: Decodable {
    var id: String

    enum Keys: String, CodingKey { case id }

    init(from decoder: any Decoder) throws {
        if let id = try? decoder.singleValueContainer().decode(String.self) {
            self.id = id
        } else {
            self.id = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .id)
        }
    }
}
