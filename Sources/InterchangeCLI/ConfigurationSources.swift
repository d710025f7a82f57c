import Foundation
import InterchangeCore
import Logging
import Yams

/// Configuration values from three layers, highest first: command-line flags, environment variables,
/// an optional YAML or JSON file. Every value remembers where it came from, so an error can say
/// "port (from environment variable INTERCHANGE_PORT): 'abc' is not a port number".
///
/// Written here rather than with apple/swift-configuration: its non-throwing accessors fall back to the
/// default when a value does not convert, silently, and its errors do not say which source held the bad value.
public struct ConfigurationSources: Sendable {
    /// A value and a description of its source.
    public struct Value: Sendable, Hashable {
        public var text: String
        public var source: String
    }

    private var flags: [String: Value]
    private var environment: [String: String]
    private var file: [String: Value]
    public private(set) var filePath: String?

    /// - Parameters:
    ///   - flags: values given on the command line, by configuration key, with the flag's spelling.
    ///   - environment: the process environment.
    ///   - configFile: a YAML (or JSON) file path; nested maps become dotted keys (`weather.provider`).
    /// - Throws: ``ConfigurationError`` naming `config` when the file cannot be read or parsed.
    public init(flags: [String: (value: String, flag: String)] = [:], environment: [String: String] = [:], configFile: String? = nil) throws {
        self.flags = flags.mapValues { Value(text: $0.value, source: "flag \($0.flag)") }
        self.environment = environment
        self.file = [:]
        self.filePath = configFile
        if let configFile {
            self.file = try Self.loadFile(configFile)
        }
    }

    /// The value for `key`: the flag, else the first set environment variable of `environmentNames`, else the file.
    public func value(_ key: String, environmentNames: [String] = []) -> Value? {
        if let flag = flags[key] { return flag }
        for name in environmentNames {
            if let text = environment[name], !text.isEmpty { return Value(text: text, source: "environment variable \(name)") }
        }
        return file[key]
    }

    /// The keys the file sets that are not in `known`: likely typos, reported rather than ignored.
    public func checkFileKeys(against known: Set<String>) throws {
        guard let filePath else { return }
        for key in file.keys.sorted() where !known.contains(key) {
            let suggestion = known.min { Self.distance($0, key) < Self.distance($1, key) }
            let hint = suggestion.map { Self.distance($0, key) <= 3 ? " (did you mean '\($0)'?)" : "" } ?? ""
            throw ConfigurationError(field: key, reason: "unknown configuration key\(hint)", source: "config file \(filePath)")
        }
    }

    // MARK: Typed readers

    public func string(_ key: String, environment names: [String] = [], default fallback: String) -> String {
        value(key, environmentNames: names)?.text ?? fallback
    }

    public func optionalString(_ key: String, environment names: [String] = []) -> String? {
        value(key, environmentNames: names)?.text
    }

    public func int(_ key: String, environment names: [String] = [], default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let value = value(key, environmentNames: names) else { return fallback }
        guard let number = Int(value.text.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            throw ConfigurationError(
                field: key,
                reason: "'\(value.text)' is not a whole number between \(range.lowerBound) and \(range.upperBound)",
                source: value.source
            )
        }
        return number
    }

    public func bool(_ key: String, environment names: [String] = [], default fallback: Bool) throws -> Bool {
        guard let value = value(key, environmentNames: names) else { return fallback }
        switch value.text.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw ConfigurationError(field: key, reason: "'\(value.text)' is not true or false", source: value.source)
        }
    }

    public func logLevel(_ key: String, environment names: [String] = [], default fallback: Logger.Level) throws -> Logger.Level {
        guard let value = value(key, environmentNames: names) else { return fallback }
        guard let level = Logger.Level(rawValue: value.text.lowercased()) else {
            let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(field: key, reason: "'\(value.text)' is not a log level (\(levels))", source: value.source)
        }
        return level
    }

    /// An absolute http(s) URL without query or fragment.
    public func baseURL(_ key: String, environment names: [String] = []) throws -> String? {
        guard let value = value(key, environmentNames: names) else { return nil }
        _ = try HTTPURL.parse(value.text, rules: .baseURL, field: key, source: value.source)
        return value.text.hasSuffix("/") ? String(value.text.dropLast()) : value.text
    }

    /// One of `choices`.
    public func choice(_ key: String, environment names: [String] = [], default fallback: String, choices: [String]) throws -> String {
        guard let value = value(key, environmentNames: names) else { return fallback }
        guard choices.contains(value.text.lowercased()) else {
            throw ConfigurationError(field: key, reason: "'\(value.text)' is not one of \(choices.joined(separator: ", "))", source: value.source)
        }
        return value.text.lowercased()
    }

    // MARK: File

    private static func loadFile(_ path: String) throws -> [String: Value] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(field: "config", reason: "cannot read '\(path)': \(error.localizedDescription)", source: "config file \(path)")
        }
        let parsed: Any?
        do {
            parsed = try Yams.load(yaml: text)
        } catch {
            throw ConfigurationError(field: "config", reason: "'\(path)' is not valid YAML or JSON: \(error)", source: "config file \(path)")
        }
        guard let parsed else { return [:] }
        guard let root = parsed as? [String: Any] else {
            throw ConfigurationError(field: "config", reason: "'\(path)' must hold a map of settings at the top level", source: "config file \(path)")
        }
        var values: [String: Value] = [:]
        try flatten(root, prefix: "", into: &values, source: "config file \(path)")
        return values
    }

    private static func flatten(_ map: [String: Any], prefix: String, into values: inout [String: Value], source: String) throws {
        for (key, value) in map {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            switch value {
            case let nested as [String: Any]:
                try flatten(nested, prefix: path, into: &values, source: source)
            case is [Any]:
                throw ConfigurationError(field: path, reason: "lists are not supported here; give a single value", source: source)
            case is NSNull:
                continue
            default:
                values[path] = Value(text: "\(value)", source: source)
            }
        }
    }

    /// Levenshtein distance, for "did you mean" hints.
    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased())
        let b = Array(b.lowercased())
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
