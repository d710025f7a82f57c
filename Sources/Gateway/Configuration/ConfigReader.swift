import Yams

/// A key path into the document, printed the way Kong users read it: `services[0].routes[1].paths[0]`.
struct ConfigPath: Hashable, CustomStringConvertible {
    private var text: String

    static let root = ConfigPath(text: "")

    private init(text: String) { self.text = text }

    func key(_ name: String) -> ConfigPath {
        // Keys that are not plain identifiers (header names in `headers`, `X-Cache-Status`) are quoted.
        let plain =
            !name.isEmpty && name.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
        if !plain { return ConfigPath(text: "\(text)[\"\(name)\"]") }
        return ConfigPath(text: text.isEmpty ? name : "\(text).\(name)")
    }

    func index(_ position: Int) -> ConfigPath { ConfigPath(text: "\(text)[\(position)]") }

    var description: String { text }
}

/// Collects every problem found while reading; loading fails at the end if there is any.
final class Diagnostics {
    private(set) var issues: [ConfigurationIssue] = []

    func report(_ path: ConfigPath, _ mark: Mark?, _ reason: String) {
        issues.append(ConfigurationIssue(keyPath: path.description, line: mark?.line, column: mark?.column, reason: reason))
    }
}

extension Node {
    /// `null`, `~` or an empty value: Kong treats them as "not set", and so do we.
    var isNull: Bool {
        if case .scalar(let scalar) = self { return self.tag.rawValue == Tag.Name.null.rawValue }
        return false
    }

    var kindDescription: String {
        switch self {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: self.tag.rawValue) {
            case .str: return "a string"
            case .int: return "an integer (\(scalar.string))"
            case .float: return "a number (\(scalar.string))"
            case .bool: return "a boolean (\(scalar.string))"
            case .null: return "null"
            default: return "'\(scalar.string)'"
            }
        case .mapping: return "an object"
        case .sequence: return "an array"
        case .alias: return "an alias"
        }
    }

    /// The scalar as a string when it is one (a timestamp-looking value is a string to Kong too).
    var stringValue: String? {
        guard case .scalar(let scalar) = self, self.tag.rawValue == Tag.Name.str.rawValue || self.tag.rawValue == Tag.Name.timestamp.rawValue else {
            return nil
        }
        return scalar.string
    }

    var integerValue: Int? {
        guard case .scalar(let scalar) = self else { return nil }
        if self.tag.rawValue == Tag.Name.int.rawValue { return self.int }
        // JSON writers emit 60000.0 for an integer; Lua (and so Kong) sees the same number.
        if self.tag.rawValue == Tag.Name.float.rawValue, let value = self.float, value.rounded() == value, abs(value) < 1e15 { return Int(value) }
        return nil
    }

    var numberValue: Double? {
        guard case .scalar(let scalar) = self, self.tag.rawValue == Tag.Name.int.rawValue || self.tag.rawValue == Tag.Name.float.rawValue else {
            return nil
        }
        return self.tag.rawValue == Tag.Name.int.rawValue ? self.int.map(Double.init) : self.float
    }

    var boolValue: Bool? {
        guard case .scalar(let scalar) = self, self.tag.rawValue == Tag.Name.bool.rawValue else { return nil }
        return self.bool
    }
}

/// Reads one object (a YAML/JSON mapping) into typed fields, reporting each bad field by key path and line, and
/// at `finish()` every key nobody asked for as an unknown field — nothing in a file is silently ignored.
final class ObjectReader {
    let path: ConfigPath
    let mark: Mark?
    let diagnostics: Diagnostics
    private var entries: [String: (keyMark: Mark?, value: Node)] = [:]
    private var order: [String] = []
    private var consumed: Set<String> = []

    /// Opens `node` as an object; reports "expected an object" and returns nil when it is something else.
    init?(_ node: Node, at path: ConfigPath, _ diagnostics: Diagnostics) {
        self.path = path
        self.mark = node.mark
        self.diagnostics = diagnostics
        guard case .mapping(let mapping) = node else {
            diagnostics.report(path, node.mark, "expected an object, got \(node.kindDescription)")
            return nil
        }
        for (key, value) in mapping {
            guard let name = key.stringValue ?? key.scalar?.string else {
                diagnostics.report(path, key.mark, "keys must be strings, got \(key.kindDescription)")
                continue
            }
            // Yams refuses duplicate keys while parsing; this catches `1` vs `"1"` style twins.
            if entries[name] != nil {
                diagnostics.report(path.key(name), key.mark, "duplicate key")
                continue
            }
            entries[name] = (key.mark, value)
            order.append(name)
        }
    }

    var keys: [String] { order }

    func childPath(_ key: String) -> ConfigPath { path.key(key) }

    /// Where a field is: its value's mark, else its key's, else the object's.
    func mark(of key: String) -> Mark? {
        guard let entry = entries[key] else { return mark }
        return entry.value.mark ?? entry.keyMark ?? mark
    }

    func report(_ key: String?, _ reason: String) {
        if let key { diagnostics.report(path.key(key), mark(of: key), reason) } else { diagnostics.report(path, mark, reason) }
    }

    /// The value of `key`, marking it read; nil when absent or null.
    func value(_ key: String) -> Node? {
        consumed.insert(key)
        guard let value = entries[key]?.value, !value.isNull else { return nil }
        return value
    }

    func contains(_ key: String) -> Bool { entries[key].map { !$0.value.isNull } ?? false }

    func string(_ key: String, default fallback: String? = nil, validate: ((String) -> String?)? = nil) -> String? {
        guard let node = value(key) else { return fallback }
        guard let string = node.stringValue else {
            let hint = node.numberValue != nil ? "; quote it if it is meant as text" : ""
            report(key, "expected a string, got \(node.kindDescription)\(hint)")
            return fallback
        }
        if let validate, let problem = validate(string) {
            report(key, problem)
            return fallback
        }
        return string
    }

    func integer(_ key: String, default fallback: Int? = nil, in range: ClosedRange<Int>? = nil) -> Int? {
        guard let node = value(key) else { return fallback }
        guard let number = node.integerValue else {
            report(key, "expected an integer, got \(node.kindDescription)")
            return fallback
        }
        if let range, !range.contains(number) {
            report(key, "value should be between \(range.lowerBound) and \(range.upperBound) (got \(number))")
            return fallback
        }
        return number
    }

    func number(_ key: String, default fallback: Double? = nil, in range: ClosedRange<Double>? = nil, greaterThan floor: Double? = nil) -> Double? {
        guard let node = value(key) else { return fallback }
        guard let number = node.numberValue else {
            report(key, "expected a number, got \(node.kindDescription)")
            return fallback
        }
        if let range, !range.contains(number) {
            report(key, "value should be between \(range.lowerBound.formatted) and \(range.upperBound.formatted) (got \(number.formatted))")
            return fallback
        }
        if let floor, number <= floor {
            report(key, "value must be greater than \(floor.formatted) (got \(number.formatted))")
            return fallback
        }
        return number
    }

    func bool(_ key: String, default fallback: Bool) -> Bool {
        guard let node = value(key) else { return fallback }
        guard let bool = node.boolValue else {
            report(key, "expected a boolean, got \(node.kindDescription)")
            return fallback
        }
        return bool
    }

    /// An array of strings; `validate` returns a problem for one element, reported at that element.
    func strings(_ key: String, default fallback: [String]? = nil, unique: Bool = false, validate: ((String) -> String?)? = nil) -> [String]? {
        guard let node = value(key) else { return fallback }
        guard case .sequence(let sequence) = node else {
            report(key, "expected an array, got \(node.kindDescription)")
            return fallback
        }
        var result: [String] = []
        for (index, element) in sequence.enumerated() {
            let elementPath = path.key(key).index(index)
            guard let string = element.stringValue else {
                diagnostics.report(elementPath, element.mark, "expected a string, got \(element.kindDescription)")
                continue
            }
            if let validate, let problem = validate(string) {
                diagnostics.report(elementPath, element.mark, problem)
                continue
            }
            if unique, result.contains(string) {
                diagnostics.report(elementPath, element.mark, "duplicate value '\(string)' in a set")
                continue
            }
            result.append(string)
        }
        return result
    }

    func integers(_ key: String, default fallback: [Int], in range: ClosedRange<Int>) -> [Int] {
        guard let node = value(key) else { return fallback }
        guard case .sequence(let sequence) = node else {
            report(key, "expected an array, got \(node.kindDescription)")
            return fallback
        }
        var result: [Int] = []
        for (index, element) in sequence.enumerated() {
            guard let number = element.integerValue, range.contains(number) else {
                diagnostics.report(
                    path.key(key).index(index),
                    element.mark,
                    "expected an integer between \(range.lowerBound) and \(range.upperBound), got \(element.kindDescription)"
                )
                continue
            }
            result.append(number)
        }
        return result
    }

    /// A nested object; nil (and nothing reported) when absent.
    func object(_ key: String) -> ObjectReader? {
        guard let node = value(key) else { return nil }
        return ObjectReader(node, at: path.key(key), diagnostics)
    }

    /// An array of objects: each element opened (a non-object element is reported and skipped), with its index.
    func objects(_ key: String) -> [(index: Int, reader: ObjectReader)] {
        guard let node = value(key) else { return [] }
        guard case .sequence(let sequence) = node else {
            report(key, "expected an array, got \(node.kindDescription)")
            return []
        }
        return sequence.enumerated().compactMap { index, element in
            ObjectReader(element, at: path.key(key).index(index), diagnostics).map { (index, $0) }
        }
    }

    /// A field Kong has and this gateway does not implement yet: an error unless it is absent, null or a value that
    /// means "off" (Kong's default, say), so that a file exported from Kong with its defaults written out loads.
    func notSupportedYet(_ key: String, unless harmless: (Node) -> Bool = { _ in false }, _ detail: String = "") {
        guard let node = value(key), !harmless(node) else { return }
        report(key, "not supported yet" + (detail.isEmpty ? "" : " (\(detail))"))
    }

    /// Fields that change nothing here (Kong's timestamps, `_comment`, `_ignore`): read and dropped.
    func informational(_ keys: String...) {
        for key in keys { consumed.insert(key) }
    }

    /// Reports every key that was not read as an unknown field.
    func finish() {
        for key in order where !consumed.contains(key) {
            diagnostics.report(path.key(key), entries[key]?.keyMark ?? mark, "unknown field")
        }
    }
}

extension Double {
    /// 128 rather than 128.0 in messages.
    var formatted: String { rounded() == self && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}

extension Node {
    var isFalse: Bool { boolValue == false }
    var isEmptySequence: Bool {
        if case .sequence(let elements) = self { return elements.isEmpty }
        return false
    }
    var isEmptyMapping: Bool {
        if case .mapping(let entries) = self { return entries.isEmpty }
        return false
    }
}
