import Foundation
import InterchangeCore
import Logging
import Observability

/// The settings every Interchange process needs, resolved from flags, environment and config file.
///
/// | key | flag | environment | default |
/// |---|---|---|---|
/// | `host` | `--host` | `INTERCHANGE_HOST` | `127.0.0.1` |
/// | `port` | `--port` | `INTERCHANGE_PORT` | `8080` (0 picks a free port) |
/// | `dataDir` | `--data-dir` | `INTERCHANGE_DATA_DIR` | `./.interchange` |
/// | `logLevel` | `--log-level` | `INTERCHANGE_LOG_LEVEL` | `info` |
/// | `logFormat` | `--log-format` | `INTERCHANGE_LOG_FORMAT` | `json` when standard error is not a terminal, else `text` |
///
/// The config file is `--config FILE` or `INTERCHANGE_CONFIG`. Components read their own keys from ``sources``.
public struct Settings: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: String
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// Every layer, for components' own settings.
    public var sources: ConfigurationSources

    /// The keys Interchange understands in a config file; anything else is reported as a likely typo.
    public static var knownKeys: Set<String> {
        Set(["host", "port", "dataDir", "logLevel", "logFormat"]).union(ComponentCatalog.configurationKeys)
    }

    /// Resolves and validates the settings; throws ``ConfigurationError`` naming the field and where it came from.
    public init(sources: ConfigurationSources) throws {
        self.sources = sources
        try sources.checkFileKeys(against: Self.knownKeys)
        host = sources.string("host", environment: ["INTERCHANGE_HOST"], default: "127.0.0.1")
        port = try sources.int("port", environment: ["INTERCHANGE_PORT"], default: 8080, range: 0...65535)
        dataDirectory = sources.string("dataDir", environment: ["INTERCHANGE_DATA_DIR"], default: "./.interchange")
        logLevel = try sources.logLevel("logLevel", environment: ["INTERCHANGE_LOG_LEVEL"], default: .info)
        let format = try sources.choice(
            "logFormat",
            environment: ["INTERCHANGE_LOG_FORMAT"],
            default: LogFormat.automatic.rawValue,
            choices: LogFormat.allCases.map(\.rawValue)
        )
        logFormat = LogFormat(rawValue: format) ?? .automatic
        if host.isEmpty || host.contains(" ") || host.contains("/") {
            throw ConfigurationError(
                field: "host",
                reason: "'\(host)' is not a host name or address",
                source: sources.value("host", environmentNames: ["INTERCHANGE_HOST"])?.source
            )
        }
    }

    /// Creates the data directory if needed; throws naming `dataDir` when that is impossible.
    public func prepareDataDirectory() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ConfigurationError(field: "dataDir", reason: "'\(dataDirectory)' exists and is not a directory")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            } catch {
                throw ConfigurationError(field: "dataDir", reason: "cannot create '\(dataDirectory)': \(error.localizedDescription)")
            }
        }
        guard FileManager.default.isWritableFile(atPath: dataDirectory) else {
            throw ConfigurationError(field: "dataDir", reason: "'\(dataDirectory)' is not writable")
        }
    }
}
