/// One `name:value` entry of Kong's transformer plugins (`X-Source:gateway`, `old:new` for renames).
public struct NameValue: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name):\(value)" }

    /// Kong's split: the name is everything before the first `:`, the value everything after the colons that follow.
    static func parse(_ entry: String) -> NameValue? {
        guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex else { return nil }
        let name = String(entry[..<colon])
        let value = String(entry[colon...].drop { $0 == ":" })
        return NameValue(name, value)
    }
}

extension ObjectReader {
    /// Kong's `name:value` arrays; `headerNames` checks the name (and for renames the new name) is a header name.
    /// Kong evaluates `$(…)` in values as a Lua template; that is not supported yet.
    func nameValues(_ key: String, headerNames: Bool = false, renames: Bool = false, valueRequired: Bool = true) -> [NameValue] {
        var result: [NameValue] = []
        _ = strings(key, default: []) { entry in
            guard let pair = NameValue.parse(entry) else { return "'\(entry)' is not in name:value form" }
            if valueRequired, pair.value.isEmpty { return "key '\(pair.name)' has no value" }
            if headerNames, let problem = Validators.headerName(pair.name) { return problem }
            if renames, headerNames, let problem = Validators.headerName(pair.value) { return problem }
            if pair.value.contains("$(") { return "templates ('$(…)' in '\(entry)') are not supported yet" }
            result.append(pair)
            return nil
        }
        return result
    }
}
