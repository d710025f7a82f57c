/// A configuration value that cannot be used, named by the field that holds it.
///
/// Every constructor in Interchange that takes configuration validates it up front and throws this error,
/// so a bad value fails at start-up with a message a person can act on, not later as odd behaviour:
///
/// ```swift
/// do {
///     _ = try RetryStrategy(maxAttempts: 0)
/// } catch let error as ConfigurationError {
///     print(error)  // "maxAttempts: must be at least 1 (got 0)"
/// }
/// ```
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The field that holds the bad value, as a user would write it (`retry.maxAttempts`, `port`).
    public var field: String
    /// What is wrong with the value, in a sentence.
    public var reason: String
    /// Where the value came from, when known (`environment variable INTERCHANGE_PORT`, `config file x.yaml`).
    public var source: String?

    public init(field: String, reason: String, source: String? = nil) {
        self.field = field
        self.reason = reason
        self.source = source
    }

    /// The same error with its field nested under `prefix` (`maxAttempts` → `retry.maxAttempts`).
    public func nested(under prefix: String) -> ConfigurationError {
        var copy = self
        copy.field = prefix.isEmpty ? field : "\(prefix).\(field)"
        return copy
    }

    public var description: String {
        if let source {
            return "\(field) (from \(source)): \(reason)"
        }
        return "\(field): \(reason)"
    }
}

extension ConfigurationError {
    /// Throws unless `condition` holds, naming `field` and showing the offending value.
    @inlinable
    public static func require(
        _ condition: Bool,
        field: @autoclosure () -> String,
        _ reason: @autoclosure () -> String,
        got value: @autoclosure () -> Any
    ) throws {
        if !condition {
            throw ConfigurationError(field: field(), reason: "\(reason()) (got \(value()))")
        }
    }
}
