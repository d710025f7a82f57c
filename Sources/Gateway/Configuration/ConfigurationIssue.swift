import InterchangeCore

/// One problem in a gateway configuration file: where it is (key path, line, column) and what is wrong.
///
/// ```
/// gateway.yaml:14:9: services[0].routes[1].foo: unknown field
/// ```
public struct ConfigurationIssue: Hashable, Sendable, CustomStringConvertible {
    /// The key path as a Kong user reads it: `services[0].routes[1].paths[0]`; empty for the document itself.
    public var keyPath: String
    /// The line of the offending key or value, from 1; nil when the problem has no single place (a missing field
    /// is reported at the object that lacks it).
    public var line: Int?
    /// The column, from 1, counted in Unicode scalars.
    public var column: Int?
    /// What is wrong, in a sentence.
    public var reason: String

    public init(keyPath: String, line: Int?, column: Int?, reason: String) {
        self.keyPath = keyPath
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        let place = line.map { line in column.map { "\(line):\($0)" } ?? "\(line)" }
        let path = keyPath.isEmpty ? "(document)" : keyPath
        return place.map { "\($0): \(path): \(reason)" } ?? "\(path): \(reason)"
    }
}

/// A gateway configuration that did not load: every problem found, in file order, not only the first.
///
/// ```
/// do { _ = try GatewayConfiguration.load(contentsOf: url) } catch let error as GatewayConfigurationError {
///     for issue in error.issues { print(issue) }   // 3:5: services[0].url: …
/// }
/// ```
public struct GatewayConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was read: a file path, or the name the caller gave the text.
    public var source: String
    public var issues: [ConfigurationIssue]

    public init(source: String, issues: [ConfigurationIssue]) {
        self.source = source
        self.issues = issues
    }

    public var description: String {
        let count = issues.count == 1 ? "1 problem" : "\(issues.count) problems"
        return "\(source): \(count)\n" + issues.map { "  \(source):\($0)" }.joined(separator: "\n")
    }

    /// The issues as the project's configuration errors: the field is the key path, the source says file and line.
    public var configurationErrors: [ConfigurationError] {
        issues.map { issue in
            ConfigurationError(
                field: issue.keyPath.isEmpty ? "(document)" : issue.keyPath,
                reason: issue.reason,
                source: issue.line.map { "\(source) line \($0)" } ?? source
            )
        }
    }
}
