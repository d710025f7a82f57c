import Foundation
import Gateway
import HTTPTypes
import InterchangeCore

/// The five edits of Kong's transformer plugins, in their order — remove, rename, replace (only what exists), add
/// (only what does not), append (another value) — over the three kinds of fields they edit.
enum Transformations {
    struct Edits {
        var remove: [String] = []
        var rename: [NameValue] = []
        var replace: [NameValue] = []
        var add: [NameValue] = []
        var append: [NameValue] = []

        var isEmpty: Bool { remove.isEmpty && rename.isEmpty && replace.isEmpty && add.isEmpty && append.isEmpty }
    }

    /// Header fields (names case-insensitive; a renamed or replaced field replaces every value of its name).
    static func apply(_ edits: Edits, to fields: inout HTTPFields) {
        for name in edits.remove { if let field = HTTPField.Name(name) { fields[field] = nil } }
        for rename in edits.rename {
            guard let old = HTTPField.Name(rename.name), let new = HTTPField.Name(rename.value) else { continue }
            let values = fields[values: old]
            guard !values.isEmpty else { continue }
            fields[old] = nil
            fields[values: new] = values
        }
        for replace in edits.replace {
            guard let name = HTTPField.Name(replace.name), fields[name] != nil else { continue }
            fields[name] = replace.value
        }
        for add in edits.add {
            guard let name = HTTPField.Name(add.name), fields[name] == nil else { continue }
            fields[name] = add.value
        }
        for append in edits.append {
            guard let name = HTTPField.Name(append.name) else { continue }
            fields.append(HTTPField(name: name, value: append.value))
        }
    }

    /// Ordered name-value pairs: a query string's or a form's (names case-sensitive).
    static func apply(_ edits: Edits, to pairs: inout [(name: String, value: String)]) {
        pairs.removeAll { pair in edits.remove.contains(pair.name) }
        for rename in edits.rename {
            for index in pairs.indices where pairs[index].name == rename.name { pairs[index].name = rename.value }
        }
        for replace in edits.replace {
            guard pairs.contains(where: { $0.name == replace.name }) else { continue }
            pairs.removeAll { $0.name == replace.name }
            pairs.append((replace.name, replace.value))
        }
        for add in edits.add where !pairs.contains(where: { $0.name == add.name }) { pairs.append((add.name, add.value)) }
        for append in edits.append { pairs.append((append.name, append.value)) }
    }

    /// A JSON object's members; `value` makes each edit's value (a string, or typed by Kong's `json_types`).
    static func apply(_ edits: Edits, to object: inout [String: JSONValue], value: (Int, NameValue, Section) -> JSONValue) {
        for name in edits.remove { object[name] = nil }
        for rename in edits.rename {
            guard let moved = object.removeValue(forKey: rename.name) else { continue }
            object[rename.value] = moved
        }
        for (position, replace) in edits.replace.enumerated() where object[replace.name] != nil {
            object[replace.name] = value(position, replace, .replace)
        }
        for (position, add) in edits.add.enumerated() where object[add.name] == nil { object[add.name] = value(position, add, .add) }
        for (position, append) in edits.append.enumerated() {
            let added = value(position, append, .append)
            switch object[append.name] {
            case .array(var values):
                values.append(added)
                object[append.name] = .array(values)
            case nil: object[append.name] = .array([added])
            case let existing?: object[append.name] = .array([existing, added])
            }
        }
    }

    enum Section { case replace, add, append }

    // MARK: Encodings

    /// `a=1&b=x%20y` as decoded pairs (`+` is a space in forms).
    static func pairs(_ encoded: String, plusIsSpace: Bool) -> [(name: String, value: String)] {
        encoded.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                let text = plusIsSpace ? part.replacingOccurrences(of: "+", with: " ") : String(part)
                return text.removingPercentEncoding ?? text
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    static func encode(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { "\(percentEncode($0.name))=\(percentEncode($0.value))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    static func isForm(_ contentType: String?) -> Bool {
        contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/x-www-form-urlencoded"
    }

    static func encodeJSON(_ object: [String: JSONValue]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(object)
    }
}
