import Foundation
import Messaging
import Testing

@Suite struct EventTypeRegistryTests {
    struct OrderCreated: Codable, Equatable, Sendable {
        var orderID: String
    }

    struct OrderPaid: Codable, Sendable {
        var orderID: String
        var amount: Int
    }

    @Test func anEventIsStampedWithItsRegisteredTypeAndSchema() throws {
        var registry = EventTypeRegistry()
        #expect(registry.isEmpty)
        registry.register(OrderCreated.self, type: "com.example.order.created", dataschema: "https://schemas.example.com/order.created/v1")
        registry.register(OrderPaid.self, type: "com.example.order.paid")
        #expect(!registry.isEmpty)
        #expect(registry.isKnown("com.example.order.created"))
        #expect(!registry.isKnown("com.example.order.refunded"))
        #expect(registry.types == ["com.example.order.created", "com.example.order.paid"])

        let event = try registry.event(OrderCreated(orderID: "o-1"), source: "/orders", subject: "o-1")
        #expect(event.type == "com.example.order.created")
        #expect(event.dataschema == "https://schemas.example.com/order.created/v1")
        #expect(event.subject == "o-1")
        #expect(event.datacontenttype == "application/json")
        #expect(try event.decodeData(as: OrderCreated.self) == OrderCreated(orderID: "o-1"))
        try event.validate()

        let paid = try registry.event(OrderPaid(orderID: "o-1", amount: 5), source: "/orders")
        #expect(paid.type == "com.example.order.paid")
        #expect(paid.dataschema == nil)
    }

    @Test func aNewSchemaVersionStampsLaterEvents() throws {
        var registry = EventTypeRegistry()
        registry.register(OrderCreated.self, type: "com.example.order.created", dataschema: "https://schemas.example.com/order.created/v1")
        registry.register(OrderCreated.self, type: "com.example.order.created", dataschema: "https://schemas.example.com/order.created/v2")
        #expect(try registry.event(OrderCreated(orderID: "o"), source: "/s").dataschema == "https://schemas.example.com/order.created/v2")
    }

    @Test func anUnregisteredPayloadIsRefusedNamingType() {
        let registry = EventTypeRegistry()
        #expect(throws: CloudEventValidationError(attribute: "type", reason: "no event type is registered for OrderPaid")) {
            try registry.event(OrderPaid(orderID: "o", amount: 1), source: "/s")
        }
    }
}
