import Foundation
import HTTPTypes
import Hummingbird
import InterchangeCore

/// A JSON document written exactly as an upstream API writes it: members in a chosen order, numbers with the
/// precision the API uses (`23.0`, `0.00`, `285`), non-ASCII as raw UTF-8 and `/` unescaped, no whitespace.
///
/// `JSONEncoder` cannot do this (it reorders or escapes), and the fixtures are byte-level references.
///
/// ```swift
/// let body: WireJSON = .object([("cod", .string("404")), ("message", .string("city not found"))])
/// body.serialized() // {"cod":"404","message":"city not found"}
/// ```
enum WireJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    /// A number written in its shortest form, with integral values written without a fraction (`285`, `14.87`).
    case number(Double)
    /// A number written with exactly `decimals` fraction digits (`23.0`, `0.00`).
    case fixed(Double, decimals: Int)
    case string(String)
    case array([WireJSON])
    case object([(String, WireJSON)])

    static func == (lhs: WireJSON, rhs: WireJSON) -> Bool {
        lhs.serialized() == rhs.serialized()
    }

    /// `value` rounded to `places` decimal places, written in shortest form.
    static func rounded(_ value: Double, _ places: Int) -> WireJSON {
        .number(value.rounded(toPlaces: places))
    }

    /// The compact serialisation.
    func serialized() -> String {
        var output = ""
        write(to: &output)
        return output
    }

    func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .number(let value): output += Self.shortest(value)
        case .fixed(let value, let decimals): output += Self.fixed(value, decimals)
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.write(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { output += "," }
                Self.writeString(key, to: &output)
                output += ":"
                value.write(to: &output)
            }
            output += "}"
        }
    }

    private static func shortest(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        let value = value + 0.0  // no "-0"
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    private static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "null" }
        let text = String(format: "%.\(decimals)f", value.rounded(toPlaces: decimals) + 0.0)
        // "%.1f" of -0.04 is "-0.0": the APIs never write a negative zero.
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(text.dropFirst()) }
        return text
    }

    private static func writeString(_ value: String, to output: inout String) {
        JSONString.append(value, to: &output)
    }
}

extension Double {
    /// This value rounded half away from zero to `places` decimal places.
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10.0, Double(places))
        return (self * scale).rounded() / scale
    }
}

extension Response {
    /// A response whose body is `json`, with `headers` (which should name the content type).
    static func wire(_ status: HTTPResponse.Status, _ json: WireJSON, headers: HTTPFields) -> Response {
        Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json.serialized())))
    }

    /// A response whose body is the literal `body`, for the fixtures' hand-spaced error bodies.
    static func literal(_ status: HTTPResponse.Status, _ body: String, headers: HTTPFields) -> Response {
        Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
