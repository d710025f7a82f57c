import Foundation
import Messaging
import Testing

@Suite struct CloudEventBinaryMessageTests {
    static let event = CloudEvent(
        id: "e-1",
        source: "/orders",
        type: "com.example.order.created",
        subject: "o-1",
        time: Date(timeIntervalSince1970: 1_796_182_376.25),
        datacontenttype: "application/json; charset=utf-8",
        dataschema: "https://schemas.example.com/order.created/v2",
        extensions: [
            "traceparent": .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), "priority": .integer(3), "replay": .boolean(true),
        ],
        data: Data(#"{"orderID":"o-1"}"#.utf8)
    )

    @Test func binaryModeWritesTheBindingsPreferredPrefixAndRoundTrips() throws {
        let message = Self.event.binaryMessage()
        #expect(message.contentType == "application/json; charset=utf-8")
        #expect(message.body == Self.event.data)
        #expect(
            message.properties == [
                "cloudEvents_specversion": .string("1.0"),
                "cloudEvents_id": .string("e-1"),
                "cloudEvents_source": .string("/orders"),
                "cloudEvents_type": .string("com.example.order.created"),
                "cloudEvents_subject": .string("o-1"),
                "cloudEvents_time": .string("2026-12-02T03:32:56.25Z"),
                "cloudEvents_dataschema": .string("https://schemas.example.com/order.created/v2"),
                "cloudEvents_traceparent": .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
                "cloudEvents_priority": .integer(3),
                "cloudEvents_replay": .boolean(true),
            ]
        )
        #expect(try CloudEvent(binaryMessage: message) == Self.event)
    }

    @Test(arguments: ["cloudEvents_", "cloudEvents:"])
    func bothPrefixesAreRead(prefix: String) throws {
        let message = Self.event.binaryMessage(prefix: prefix)
        #expect(message.properties[prefix + "id"] == .string("e-1"))
        #expect(try CloudEvent(binaryMessage: message) == Self.event)
    }

    @Test func propertiesWithoutThePrefixAreNotTheEvents() throws {
        var message = Self.event.binaryMessage()
        message.properties["x-death"] = .string("broker bookkeeping")
        message.properties["cloudevents_id"] = .string("wrong case is not the binding's")
        #expect(try CloudEvent(binaryMessage: message) == Self.event)
    }

    @Test func arbitraryBytesRoundTripInBinaryModeAndThroughStructuredMode() throws {
        let bytes = Data((0...255).map { UInt8($0) })
        let event = CloudEvent(source: "/files", type: "com.example.file", time: nil, datacontenttype: "image/png", data: bytes)
        let received = try CloudEvent(binaryMessage: event.binaryMessage())
        #expect(received == event)
        #expect(try CloudEvent(jsonEncoded: received.jsonEncoded()) == event)
    }

    @Test func anEventWithoutDataHasAnEmptyBody() throws {
        let event = CloudEvent(source: "/s", type: "t", time: nil)
        let message = event.binaryMessage()
        #expect(message.body.isEmpty)
        #expect(message.contentType == nil)
        #expect(try CloudEvent(binaryMessage: message) == event)
    }

    @Test func missingOrMistypedAttributesAreNamed() throws {
        var message = Self.event.binaryMessage()
        message.properties["cloudEvents_source"] = nil
        let missing = try #require(throws: CloudEventValidationError.self) { try CloudEvent(binaryMessage: message) }
        #expect(missing.attribute == "source")

        message = Self.event.binaryMessage(prefix: "cloudEvents:")
        message.properties["cloudEvents:time"] = .boolean(true)
        let mistyped = try #require(throws: CloudEventValidationError.self) { try CloudEvent(binaryMessage: message) }
        #expect(mistyped.attribute == "time")

        message = Self.event.binaryMessage()
        message.properties["cloudEvents_specversion"] = .string("0.3")
        let version = try #require(throws: CloudEventValidationError.self) { try CloudEvent(binaryMessage: message) }
        #expect(version.attribute == "specversion")
    }

    @Test func anAMQPTimestampInMillisecondsIsRead() throws {
        var message = Self.event.binaryMessage()
        message.properties["cloudEvents_time"] = .integer(1_796_182_376_250)
        #expect(try CloudEvent(binaryMessage: message).time == Date(timeIntervalSince1970: 1_796_182_376.25))
    }

    @Test func theHeadersOfTheSDKsRabbitMQBindingAreRead() throws {
        // As the Python cloudevents package's core.bindings.rabbitmq writes them: ce- headers, all strings.
        let message = CloudEventBinaryMessage(
            properties: [
                "ce-specversion": .string("1.0"), "ce-id": .string("py-1"), "ce-source": .string("/python"),
                "ce-type": .string("com.example.python"), "ce-time": .string("2026-12-02T03:32:56.250000+00:00"),
                "ce-comexampleext": .string("v"),
            ],
            contentType: "application/json",
            body: Data(#"{"a":1}"#.utf8)
        )
        let event = try CloudEvent(binaryMessage: message)
        #expect(event.id == "py-1")
        #expect(event.time == Date(timeIntervalSince1970: 1_796_182_376.25))
        #expect(event.extensions == ["comexampleext": .string("v")])
        #expect(event.datacontenttype == "application/json")
    }

    @Test func whenAMessageCarriesTwoPrefixesThePreferredOneWins() throws {
        var message = Self.event.binaryMessage()
        message.properties["cloudEvents:id"] = .string("not this one")
        message.properties["ce-id"] = .string("nor this one")
        #expect(try CloudEvent(binaryMessage: message).id == "e-1")
    }
}
