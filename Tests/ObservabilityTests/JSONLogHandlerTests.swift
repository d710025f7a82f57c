import Foundation
import InterchangeTesting
import Logging
import Observability
import Testing

@Suite("JSONLogHandler")
struct JSONLogHandlerTests {
    /// The lines a handler wrote.
    typealias Lines = LockedValue<[String]>

    /// A logger whose lines land in `lines`, with `provider` as its metadata provider.
    func logger(label: String, lines: Lines, provider: Logger.MetadataProvider? = nil) -> Logger {
        var handler = JSONLogHandler(label: label, metadataProvider: provider) { line in lines.append(line) }
        handler.logLevel = .debug
        return Logger(label: label, factory: { _ in handler })
    }

    func object(_ line: String) throws -> [String: Any] {
        #expect(line.hasSuffix("\n"))
        #expect(!line.dropLast().contains("\n"), "one object per line")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("a line is one JSON object with timestamp, level, component, logger, message, trace and span ids, and metadata")
    func fields() throws {
        let lines = Lines([])
        let provider = Logger.MetadataProvider { ["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"] }
        let logger = logger(label: "interchange.webhooks", lines: lines, provider: provider)
        logger.info("endpoint disabled", metadata: ["endpoint": "ep_1", "attempts": Logger.MetadataValue.stringConvertible(3), "tags": ["a", "b"]])
        let line = try #require(lines.value.first)
        let object = try object(line)
        #expect(object["level"] as? String == "info")
        #expect(object["component"] as? String == "webhooks")
        #expect(object["logger"] as? String == "interchange.webhooks")
        #expect(object["message"] as? String == "endpoint disabled")
        #expect(object["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(object["span_id"] as? String == "00f067aa0ba902b7")
        #expect(object["endpoint"] as? String == "ep_1")
        #expect(object["attempts"] as? String == "3")
        #expect(object["tags"] as? [String] == ["a", "b"])
        let timestamp = try #require(object["timestamp"] as? String)
        #expect(ISO8601DateFormatter.withFractionalSeconds.date(from: timestamp) != nil, "RFC 3339 timestamp, got \(timestamp)")
    }

    @Test("quotes, backslashes, newlines and control characters in messages stay one valid line")
    func escaping() throws {
        let lines = Lines([])
        logger(label: "interchange", lines: lines).warning("line one\nline \"two\" \\ \u{01}\ttab")
        let object = try object(try #require(lines.value.first))
        #expect(object["message"] as? String == "line one\nline \"two\" \\ \u{01}\ttab")
    }

    @Test("a component named in the metadata wins over the label; errors carry their source")
    func componentAndSource() throws {
        let lines = Lines([])
        logger(label: "interchange", lines: lines).error("boom", metadata: ["component": "shop"])
        let object = try object(try #require(lines.value.first))
        #expect(object["component"] as? String == "shop")
        #expect((object["source"] as? String)?.contains("JSONLogHandlerTests.swift:") == true)
    }

    @Test("lines below the handler's level are not written")
    func level() {
        let lines = Lines([])
        var logger = logger(label: "interchange", lines: lines)
        logger.logLevel = .warning
        logger.info("quiet")
        logger.warning("loud")
        #expect(lines.value.count == 1)
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
