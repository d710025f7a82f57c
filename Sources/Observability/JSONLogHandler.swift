import Foundation
import InterchangeCore
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line — what log shippers (Vector, Fluent Bit, Loki, CloudWatch) ingest as it is.
    case json
    /// swift-log's human-readable lines.
    case text

    /// JSON when standard error is not a terminal (a container, a pipe, a file), text when a person watches it.
    public static var automatic: LogFormat {
        isatty(STDERR_FILENO) == 1 ? .text : .json
    }
}

/// A swift-log handler that writes one JSON object per line to standard error:
///
/// ```json
/// {"timestamp":"2026-12-01T21:20:00.123Z","level":"info","component":"webhooks","logger":"interchange.webhooks",
///  "message":"webhook endpoint disabled","trace_id":"4bf9…","span_id":"00f0…","endpoint":"ep_1"}
/// ```
///
/// `trace_id` and `span_id` come from the metadata provider (the current W3C trace context), `component` from a
/// `component` metadata value or else the logger's label below `interchange.`; every other metadata value
/// becomes a field (nested dictionaries and arrays stay JSON). Lines are written whole, under a lock.
///
/// Written by hand: swift-log ships only a text handler, and the JSON handlers around (swift-otel's OTLP logs,
/// for one) export to a collector rather than write lines.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let component: String
    private let write: @Sendable (String) -> Void

    /// - Parameter write: where each line goes (standard error by default); tests capture it.
    public init(
        label: String,
        metadataProvider: Logger.MetadataProvider? = nil,
        write: @escaping @Sendable (String) -> Void = JSONLogHandler.writeToStandardError
    ) {
        self.label = label
        self.component = label.hasPrefix("interchange.") ? String(label.dropFirst("interchange.".count)) : label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        var line = "{"
        Self.append(key: "timestamp", string: Self.timestamp(), to: &line, first: true)
        Self.append(key: "level", string: event.level.rawValue, to: &line)
        Self.append(key: "component", string: fields.removeValue(forKey: "component").map { "\($0)" } ?? component, to: &line)
        Self.append(key: "logger", string: label, to: &line)
        Self.append(key: "message", string: "\(event.message)", to: &line)
        for key in ["trace_id", "span_id"] {
            if let value = fields.removeValue(forKey: key) { Self.append(key: key, value: value, to: &line) }
        }
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            Self.append(key: key, value: value, to: &line)
        }
        if event.level >= .error {
            Self.append(key: "source", string: "\(event.file):\(event.line)", to: &line)
        }
        line += "}\n"
        write(line)
    }

    // MARK: Writing

    private static let lock = Mutex(())

    /// Writes `line` to standard error in one call, under a lock so concurrent lines never interleave.
    public static let writeToStandardError: @Sendable (String) -> Void = { line in
        lock.withLock { _ in writeAllToStandardError(line) }
    }

    // MARK: Encoding

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = time_t(now.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let milliseconds = Int(now.tv_nsec) / 1_000_000
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))Z"
    }

    private static func append(key: String, string: String, to line: inout String, first: Bool = false) {
        if !first { line += "," }
        appendQuoted(key, to: &line)
        line += ":"
        appendQuoted(string, to: &line)
    }

    private static func append(key: String, value: Logger.Metadata.Value, to line: inout String) {
        line += ","
        appendQuoted(key, to: &line)
        line += ":"
        append(value, to: &line)
    }

    private static func append(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let string):
            appendQuoted(string, to: &line)
        case .stringConvertible(let convertible):
            appendQuoted(convertible.description, to: &line)
        case .array(let values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                append(element, to: &line)
            }
            line += "]"
        case .dictionary(let dictionary):
            line += "{"
            for (index, (key, element)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { line += "," }
                appendQuoted(key, to: &line)
                line += ":"
                append(element, to: &line)
            }
            line += "}"
        }
    }

    static func appendQuoted(_ text: String, to line: inout String) {
        JSONString.append(text, to: &line)
    }
}

/// `write(2)` until every byte of `line` is out (or the descriptor fails).
private func writeAllToStandardError(_ line: String) {
    var line = line
    line.withUTF8 { bytes in
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let written = write(STDERR_FILENO, base + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
