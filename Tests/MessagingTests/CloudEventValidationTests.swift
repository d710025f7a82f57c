import Foundation
import Messaging
import Testing

@Suite struct CloudEventValidationTests {
    static func valid() -> CloudEvent {
        CloudEvent(
            id: "e-1",
            source: "https://shop.example.com/orders",
            type: "com.example.order.created",
            subject: "o-1",
            datacontenttype: "application/json; charset=utf-8",
            dataschema: "https://schemas.example.com/order.created/v2",
            extensions: ["traceparent": .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), "partitionkey2": .integer(1)],
            data: Data(#"{"orderID":"o-1"}"#.utf8)
        )
    }

    @Test func aCompleteEventIsValid() throws {
        try Self.valid().validate()
        try CloudEvent(source: "/orders", type: "t").validate()
        try CloudEvent(source: "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", type: "t").validate()
        try CloudEvent(source: "mailto:cncf-wg-serverless@lists.cncf.io", type: "t", datacontenttype: "text/plain;charset=\"utf-8\"").validate()
    }

    struct Violation: Sendable, CustomTestStringConvertible {
        var attribute: String
        var change: @Sendable (inout CloudEvent) -> Void
        init(_ attribute: String, _ change: @escaping @Sendable (inout CloudEvent) -> Void) {
            self.attribute = attribute
            self.change = change
        }
        var testDescription: String { attribute }
    }

    static let violations: [Violation] = [
        Violation("id") { $0.id = "" },
        Violation("source") { $0.source = "" },
        Violation("source") { $0.source = "/orders with spaces" },
        Violation("source") { $0.source = "/bad%zz" },
        Violation("type") { $0.type = "" },
        Violation("specversion") { $0.specversion = "0.3" },
        Violation("subject") { $0.subject = "" },
        Violation("time") { $0.time = Date(timeIntervalSince1970: 400_000_000_000) },
        Violation("datacontenttype") { $0.datacontenttype = "json" },
        Violation("datacontenttype") { $0.datacontenttype = "application/json; charset" },
        Violation("datacontenttype") { $0.datacontenttype = "" },
        Violation("dataschema") { $0.dataschema = "/relative/schema" },
        Violation("dataschema") { $0.dataschema = "https://schemas.example.com/order#v2" },
        Violation("dataschema") { $0.dataschema = "" },
        Violation("traceParent") { $0.extensions["traceParent"] = .string("x") },
        Violation("trace_parent") { $0.extensions["trace_parent"] = .string("x") },
        Violation("abcdefghijklmnopqrstu") { $0.extensions["abcdefghijklmnopqrstu"] = .string("21 characters") },
        Violation("") { $0.extensions[""] = .string("x") },
        Violation("subject") { $0.extensions["subject"] = .string("reserved") },
        Violation("data") { $0.extensions["data"] = .string("reserved") },
        Violation("data") { $0.data = Data("{not json".utf8) },
    ]

    @Test(arguments: violations)
    func eachViolationNamesItsAttribute(violation: Violation) {
        var event = Self.valid()
        violation.change(&event)
        #expect {
            try event.validate()
        } throws: { error in
            (error as? CloudEventValidationError)?.attribute == violation.attribute
        }
    }

    @Test func theErrorSaysWhatIsWrongAndWhere() {
        var event = Self.valid()
        event.source = ""
        #expect(throws: CloudEventValidationError(attribute: "source", reason: "must not be empty")) { try event.validate() }
        #expect(CloudEventValidationError(attribute: "source", reason: "must not be empty").description == "attribute source: must not be empty")
    }

    @Test func twentyCharacterExtensionNamesAreAllowed() throws {
        var event = Self.valid()
        event.extensions["abcdefghij0123456789"] = .boolean(true)
        try event.validate()
    }
}
