#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON value whose object members keep their order, so objects go out as Stripe writes them (`id`, `object`
/// first) and the same object always serializes to the same bytes.
///
/// ```swift
/// let session: StripeJSON = ["id": "cs_test_1", "object": "checkout.session", "amount_total": 1500, "customer": nil]
/// session.serialized()   // {"id":"cs_test_1","object":"checkout.session","amount_total":1500,"customer":null}
/// ```
public indirect enum StripeJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([StripeJSON])
    case object([(String, StripeJSON)])

    public static func == (lhs: StripeJSON, rhs: StripeJSON) -> Bool { lhs.serialized() == rhs.serialized() }
    public func hash(into hasher: inout Hasher) { hasher.combine(serialized()) }

    /// The member named `key` of an object.
    public subscript(key: String) -> StripeJSON? {
        get {
            if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
            return nil
        }
        set {
            guard case .object(var members) = self else { return }
            if let index = members.firstIndex(where: { $0.0 == key }) {
                if let newValue { members[index].1 = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key, newValue))
            }
            self = .object(members)
        }
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var int: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// `.string` for a value, `.null` for nil.
    public static func optional(_ value: String?) -> StripeJSON { value.map(StripeJSON.string) ?? .null }
    /// `.int` for a value, `.null` for nil.
    public static func optional(_ value: Int?) -> StripeJSON { value.map(StripeJSON.int) ?? .null }
    /// A string map (metadata) as an object, keys sorted.
    public static func map(_ values: [String: String]) -> StripeJSON {
        .object(values.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// Compact JSON text.
    public func serialized() -> String {
        var out = ""
        write(into: &out)
        return out
    }

    /// Compact JSON, UTF-8.
    public var data: Data { Data(serialized().utf8) }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .string(let value): Self.writeString(value, into: &out)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                Self.writeString(member.0, into: &out)
                out += ":"
                member.1.write(into: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ value: String, into out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(control.value, radix: 16).count) + String(control.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension StripeJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: StripeJSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, StripeJSON)...) { self = .object(elements) }
}
