import Foundation
import Hummingbird
import Logging
import ServiceRuntime

/// What a component gets when it is built: the settings, a logger, and the address the process listens on
/// (known only once the server is bound, so it is read lazily).
public struct ComponentContext: Sendable {
    public var settings: Settings
    public var logger: Logger
    /// The base URL of this process, e.g. `http://127.0.0.1:8080`, once the server is listening.
    public var selfBaseURL: @Sendable () -> String
    /// Whether the component runs inside `interchange up` (beside the others) or alone.
    public var isEmbedded: Bool
}

/// Every component `interchange` can run, by name.
public enum ComponentCatalog {
    public struct Entry: Sendable {
        public var name: String
        public var summary: String
        /// Builds the component; `up` builds every entry whose ``includedInUp`` says so.
        public var make: @Sendable (ComponentContext) async throws -> [any Component]
        /// Whether `interchange up` runs it, given the settings (a simulator only when the real API is not configured).
        public var includedInUp: @Sendable (Settings) -> Bool
    }

    /// The components, in the order `up` starts them.
    public static let entries: [Entry] = []

    /// Config-file keys the components read, so unknown keys can be reported.
    public static let configurationKeys: Set<String> = []

    static func entry(named name: String) -> Entry? {
        entries.first { $0.name == name }
    }
}
