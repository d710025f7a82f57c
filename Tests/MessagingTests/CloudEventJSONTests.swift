import Foundation
import Messaging
import Testing

@Suite struct CloudEventJSONTests {
    struct OrderCreated: Codable, Equatable {
        var orderID: String
        var total: Int
        var placedAt: Date
    }

    struct OrderCreatedV1: Codable, Equatable {
        var orderID: String
    }

    static let time = Date(timeIntervalSince1970: 1_764_646_376.123)

    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func structuredModeRoundTripsEveryAttributeAndTheJSONPayloadInline() throws {
        let event = try CloudEvent(
            id: "e-1",
            source: "/orders",
            type: "com.example.order.created",
            subject: "o-1",
            time: Self.time,
            dataschema: "https://schemas.example.com/order.created/v2",
            extensions: [
                "traceparent": .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), "priority": .integer(3), "replay": .boolean(false),
            ],
            json: OrderCreated(orderID: "o-1", total: 4200, placedAt: Self.time)
        )
        let encoded = try event.jsonEncoded()
        let object = try Self.object(encoded)
        #expect(object["specversion"] as? String == "1.0")
        #expect(object["time"] as? String == "2025-12-02T03:32:56.123Z")
        #expect(object["traceparent"] as? String == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(object["priority"] as? Int == 3)
        #expect(object["replay"] as? Bool == false)
        #expect((object["data"] as? [String: Any])?["orderID"] as? String == "o-1")
        #expect(object["data_base64"] == nil)

        let decoded = try CloudEvent(jsonEncoded: encoded)
        #expect(decoded == event)
        #expect(try decoded.decodeData(as: OrderCreated.self) == OrderCreated(orderID: "o-1", total: 4200, placedAt: Self.time))
    }

    @Test func anEventStampedNowReadsBackEqualInBothModes() throws {
        for _ in 0..<100 {
            let event = CloudEvent(source: "/s", type: "t")
            #expect(try CloudEvent(jsonEncoded: event.jsonEncoded()) == event)
            #expect(try CloudEvent(binaryMessage: event.binaryMessage()) == event)
        }
    }

    @Test func payloadBytesAreSplicedUnchanged() throws {
        let payload = Data(#"{ "b" : 1.50, "a" : [true, null, "\u00e9"] }"#.utf8)
        let event = CloudEvent(source: "/x", type: "t", datacontenttype: "application/json", data: payload)
        let encoded = try event.jsonEncoded()
        #expect(String(decoding: encoded, as: UTF8.self).contains(#""data":{ "b" : 1.50, "a" : [true, null, "\u00e9"] }"#))
        #expect(try CloudEvent(jsonEncoded: encoded).data == payload)
    }

    @Test func nonJSONDataTravelsAsBase64AndRoundTrips() throws {
        let bytes = Data([0x00, 0xFF, 0x7B, 0x22, 0x10])
        let event = CloudEvent(
            source: "/files",
            type: "com.example.file.uploaded",
            time: Self.time,
            datacontenttype: "application/octet-stream",
            data: bytes
        )
        let encoded = try event.jsonEncoded()
        let object = try Self.object(encoded)
        #expect(object["data"] == nil)
        #expect(object["data_base64"] as? String == bytes.base64EncodedString())
        let decoded = try CloudEvent(jsonEncoded: encoded)
        #expect(decoded.data == bytes)
        #expect(decoded.datacontenttype == "application/octet-stream")
        #expect(decoded == event)
    }

    @Test func bytesThatAreNotJSONWithoutAContentTypeTravelAsBase64() throws {
        let event = CloudEvent(source: "/x", type: "t", time: nil, data: Data("not json".utf8))
        let encoded = try event.jsonEncoded()
        #expect(try Self.object(encoded)["data_base64"] as? String == Data("not json".utf8).base64EncodedString())
        #expect(try CloudEvent(jsonEncoded: encoded) == event)
    }

    @Test func jsonContentTypeWithBytesThatAreNotJSONIsRefusedNamingData() throws {
        let event = CloudEvent(source: "/x", type: "t", datacontenttype: "application/vnd.example+json", data: Data("{oops".utf8))
        #expect(throws: CloudEventValidationError.self) { try event.jsonEncoded() }
        do {
            _ = try event.jsonEncoded()
        } catch let error as CloudEventValidationError {
            #expect(error.attribute == "data")
        }
    }

    @Test func anEventAsThePythonSDKWritesItIsRead() throws {
        // cloudevents 2.2 (core.formats.json) output, spaces and all.
        let json = Data(
            #"{"id": "p", "source": "/py", "type": "t", "specversion": "1.0", "time": "2026-12-02T03:55:17.576273Z", "data": {"a": 1}}"#.utf8
        )
        let event = try CloudEvent(jsonEncoded: json)
        #expect(event.id == "p")
        #expect(event.time == Date(timeIntervalSince1970: 1_796_183_717.576273))
        #expect(event.data == Data(#"{"a": 1}"#.utf8))
        #expect(try CloudEvent(jsonEncoded: event.jsonEncoded()) == event)
    }

    @Test func textDataSentAsAStringIsReadAsItsBytes() throws {
        let json = Data(#"{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/plain","data":"h\u00e9llo\n"}"#.utf8)
        let event = try CloudEvent(jsonEncoded: json)
        #expect(event.data == Data("héllo\n".utf8))
    }

    @Test func unknownMembersBecomeExtensionsAndNullsAreAbsent() throws {
        let json = Data(
            #"{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":null,"comexampleext":"v","count":7,"flag":true,"nothing":null}"#.utf8
        )
        let event = try CloudEvent(jsonEncoded: json)
        #expect(event.subject == nil)
        #expect(event.extensions == ["comexampleext": .string("v"), "count": .integer(7), "flag": .boolean(true)])
        #expect(event.time == nil)
        #expect(event.data == nil)
    }

    @Test(arguments: [
        ("2026-12-02T03:32:56Z", 1_796_182_376.0),
        ("2026-12-02T03:32:56.5Z", 1_796_182_376.5),
        ("2026-12-02t03:32:56.250000000z", 1_796_182_376.25),
        ("2026-12-02T05:32:56.5+02:00", 1_796_182_376.5),
        ("2026-12-01T23:32:56-04:00", 1_796_182_376.0),
        ("1969-12-31T23:59:59.5Z", -0.5),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
    ])
    func timeIsReadAsRFC3339WithOrWithoutAFractionAndAnyOffset(time: String, seconds: Double) throws {
        let json = Data(#"{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"\#(time)"}"#.utf8)
        let event = try CloudEvent(jsonEncoded: json)
        #expect(event.time == Date(timeIntervalSince1970: seconds))
    }

    @Test func timeIsWrittenInUTCWithTheFractionItHas() throws {
        let whole = CloudEvent(source: "/s", type: "t", time: Date(timeIntervalSince1970: 1_796_182_376))
        #expect(try Self.object(whole.jsonEncoded())["time"] as? String == "2026-12-02T03:32:56Z")
        let before1970 = CloudEvent(source: "/s", type: "t", time: Date(timeIntervalSince1970: -0.25))
        #expect(try Self.object(before1970.jsonEncoded())["time"] as? String == "1969-12-31T23:59:59.75Z")
    }

    @Test(arguments: [
        (#"{"id":"1","source":"/s","type":"t"}"#, "specversion"),
        (#"{"specversion":"0.3","id":"1","source":"/s","type":"t"}"#, "specversion"),
        (#"{"specversion":"1.0","source":"/s","type":"t"}"#, "id"),
        (#"{"specversion":"1.0","id":"1","type":"t"}"#, "source"),
        (#"{"specversion":"1.0","id":"1","source":"/s"}"#, "type"),
        (#"{"specversion":"1.0","id":7,"source":"/s","type":"t"}"#, "id"),
        (#"{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"yesterday"}"#, "time"),
        (#"{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"2026-02-30T00:00:00Z"}"#, "time"),
        (#"{"specversion":"1.0","id":"1","source":"/s","type":"t","ext":{"a":1}}"#, "ext"),
        (#"{"specversion":"1.0","id":"1","source":"/s","type":"t","ext":1.5}"#, "ext"),
        (#"{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":}}"#, "data"),
        (#"{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"!!"}"#, "data_base64"),
        (#"{"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AA=="}"#, "data_base64"),
        (#"["specversion"]"#, "event"),
        (#"{"specversion":"1.0","id":"1","source":"/s","type":"t"} trailing"#, "event"),
    ])
    func unreadableEventsNameTheAttribute(json: String, attribute: String) throws {
        let error = try #require(throws: CloudEventValidationError.self) { try CloudEvent(jsonEncoded: Data(json.utf8)) }
        #expect(error.attribute == attribute, "\(error)")
    }

    @Test func typedDecodingIgnoresUnknownFields() throws {
        let event = try CloudEvent(
            source: "/orders",
            type: "com.example.order.created",
            json: OrderCreated(orderID: "o-9", total: 1, placedAt: Self.time)
        )
        let received = try CloudEvent(jsonEncoded: try event.jsonEncoded())
        #expect(try received.decodeData(as: OrderCreatedV1.self) == OrderCreatedV1(orderID: "o-9"))
    }

    @Test func typedDecodingFailureNamesDataAndTheField() throws {
        let event = CloudEvent(source: "/orders", type: "t", datacontenttype: "application/json", data: Data(#"{"total":1}"#.utf8))
        let error = try #require(throws: CloudEventValidationError.self) { try event.decodeData(as: OrderCreatedV1.self) }
        #expect(error.attribute == "data")
        #expect(error.reason.contains("orderID"), "\(error)")
        let absent = CloudEvent(source: "/orders", type: "t")
        #expect(throws: CloudEventValidationError(attribute: "data", reason: "is absent; expected JSON for OrderCreatedV1")) {
            try absent.decodeData(as: OrderCreatedV1.self)
        }
    }

    @Test func stringsWithEscapesAndNonASCIIRoundTrip() throws {
        let event = CloudEvent(
            id: "quote\" backslash\\ newline\n tab\t nul\u{0} é 😀",
            source: "urn:example:%41",
            type: "t",
            subject: "\u{1F}",
            time: nil,
            extensions: ["note": .string("\u{7F}\u{2028}")]
        )
        #expect(try CloudEvent(jsonEncoded: try event.jsonEncoded()) == event)
        let escaped = Data(#"{"specversion":"1.0","id":"\ud83d\ude00\/\"","source":"/s","type":"t"}"#.utf8)
        #expect(try CloudEvent(jsonEncoded: escaped).id == "😀/\"")
    }
}
