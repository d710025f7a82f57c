import Logging
import Synchronization

/// Collects log records in memory, so tests can assert on what was (and was not) logged.
///
/// ```swift
/// let capture = LogCapture()
/// let logger = capture.logger(label: "test")
/// try await client.get(url, logger: logger)
/// #expect(!capture.text.contains("secret-token"))
/// ```
public final class LogCapture: Sendable {
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: Logger.Metadata
        /// The message and metadata as one line, as a log handler would print them.
        public var line: String {
            let rendered = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return rendered.isEmpty ? message : "\(message) \(rendered)"
        }
    }

    private let storage = Mutex<[Record]>([])

    public init() {}

    /// A logger at `level` that writes here.
    public func logger(label: String = "test", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = level
        return logger
    }

    public var records: [Record] { storage.withLock { $0 } }

    /// Every record as a line, joined by newlines.
    public var text: String { records.map(\.line).joined(separator: "\n") }

    fileprivate func append(_ record: Record) {
        storage.withLock { $0.append(record) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { _, new in new } }
            capture.append(Record(level: event.level, message: "\(event.message)", metadata: merged))
        }
    }
}
