import Foundation
import FulfillmentEvents
import Messaging
import Testing

@Suite("Fulfillment events: the shared contract")
struct EventsContractTests {
    @Test("every event and command of the spec is registered under its type and dataschema")
    func everyMessageIsRegistered() throws {
        let names = FulfillmentEvents.allTypes.map { $0.name }
        #expect(
            Set(names) == [
                "order.created", "inventory.reserved", "inventory.reservation-failed", "payment.processed", "payment.failed",
                "order.confirmed", "order.cancelled", "inventory.released", "payment.refunded", "command.reserve-inventory",
                "command.release-inventory", "command.charge-payment", "command.refund-payment",
            ]
        )
        #expect(names.count == Set(names).count)
        #expect(Set(EventSample.all.map { $0.type.name }) == Set(names))
        for message in FulfillmentEvents.allTypes {
            let entry = try #require(FulfillmentEvents.registry.entry(for: message.type))
            #expect(entry.type == "com.interchange.fulfillment.\(message.name)")
            #expect(entry.dataschema == "urn:interchange:schema:fulfillment:\(message.name):1")
            #expect(FulfillmentEvents.messageType(for: message.type) == message)
        }
    }

    @Test("every registered type has a schema file whose $id is its dataschema, draft 2020-12")
    func schemaFilesCarryTheDataschema() throws {
        for message in FulfillmentEvents.allTypes {
            let schema = try EventSchemas.load(message.schemaFileName)
            #expect(schema["$id"] as? String == message.dataschema, "\(message.schemaFileName)")
            #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema", "\(message.schemaFileName)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: EventSchemas.directory.path).filter { $0.hasSuffix(".json") }
        #expect(Set(files) == Set(FulfillmentEvents.allTypes.map { $0.schemaFileName }), "no schema without a registered type")
    }

    @Test("each schema's properties are the payload's keys and its required list the non-optional ones, nested lines too")
    func schemasMatchThePayloads() throws {
        for sample in EventSample.all {
            let schema = try EventSchemas.load(sample.type.schemaFileName)
            let minimal = try JSONSerialization.jsonObject(with: try Self.encode(sample.minimal))
            let full = try JSONSerialization.jsonObject(with: try Self.encode(sample.full))
            try Self.compare(schema: schema, minimal: minimal, full: full, at: sample.type.name)
        }
    }

    @Test("an event built by the helper has subject = orderId, source = /fulfillment/<service>, and decodes back")
    func eventHelperStampsTheEnvelope() throws {
        let message = InventoryReserved(
            orderId: "o-7",
            reservationId: "r-7",
            lines: [StockLine(sku: "SKU-PEAR", quantity: 3)],
            expiresAt: Date(timeIntervalSince1970: 1_800_000_000)
        )
        let event = try FulfillmentEvents.event(message, from: .inventory)
        #expect(event.subject == "o-7")
        #expect(event.source == "/fulfillment/inventory")
        #expect(event.type == "com.interchange.fulfillment.inventory.reserved")
        #expect(event.dataschema == "urn:interchange:schema:fulfillment:inventory.reserved:1")
        #expect(try event.decodeData(as: InventoryReserved.self) == message)
        let viaRegistry = try FulfillmentEvents.registry.event(message, source: FulfillmentService.inventory.source, subject: message.orderId)
        #expect(viaRegistry.type == event.type && viaRegistry.dataschema == event.dataschema)
        let data = try #require(event.data)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains("\"expiresAt\":\"2027-01-15T08:00:00"))
    }

    // MARK: - Helpers

    private static func encode(_ message: any FulfillmentMessage) throws -> Data {
        try CloudEvent(source: "/test", type: "t", json: message).data ?? Data()
    }

    /// Walks the schema beside the two encodings: an object's `properties` are the full sample's keys, its
    /// `required` the minimal sample's keys; arrays recurse into `items`.
    private static func compare(schema: [String: Any], minimal: Any, full: Any, at path: String) throws {
        if let fullObject = full as? [String: Any] {
            let minimalObject = try #require(minimal as? [String: Any])
            #expect(schema["type"] as? String == "object", "\(path): type object")
            let properties = try #require(schema["properties"] as? [String: Any], "\(path): properties")
            let required = try #require(schema["required"] as? [String], "\(path): required")
            #expect(Set(properties.keys) == Set(fullObject.keys), "\(path): properties vs the payload's keys")
            #expect(Set(required) == Set(minimalObject.keys), "\(path): required vs the payload's non-optional keys")
            for (key, value) in fullObject {
                guard let property = properties[key] as? [String: Any] else { continue }
                try compare(schema: property, minimal: minimalObject[key] ?? value, full: value, at: "\(path).\(key)")
            }
        } else if let fullArray = full as? [Any], let first = fullArray.first {
            #expect(schema["type"] as? String == "array", "\(path): type array")
            let items = try #require(schema["items"] as? [String: Any], "\(path): items")
            try compare(schema: items, minimal: (minimal as? [Any])?.first ?? first, full: first, at: "\(path)[]")
        }
    }
}
