import Foundation
import InterchangeCore
import OpenAPIRuntime

/// Reads every RFC 3339 `date-time` an OpenAPI document's `format: date-time` admits — with or without a
/// fraction of a second, any offset (`Z`, `+05:30`, `-22:17`), a lowercase `t` or `z`, a leap second — and
/// writes `2026-01-01T00:00:00Z` (whole seconds, UTC), as the runtime's default transcoder does.
///
/// The generated servers' default reads only whole seconds, so a valid `2026-01-01T00:00:00.5Z` was a 400.
///
/// ```swift
/// try API().registerHandlers(on: router, configuration: .init(dateTranscoder: RFC3339DateTranscoder()))
/// ```
public struct RFC3339DateTranscoder: DateTranscoder {
    public init() {}

    public func encode(_ date: Date) throws -> String {
        CivilTime(date).iso8601String
    }

    public func decode(_ text: String) throws -> Date {
        guard let date = Self.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "'\(text.prefix(64))' is not an RFC 3339 date-time"))
        }
        return date
    }

    /// `full-date "T" partial-time time-offset` (RFC 3339 §5.6), or nil.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + width] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2), expect("Tt"),
            let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2)
        else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                fraction += Double(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        if expect("Zz") {
            offset = 0
        } else {
            guard index < bytes.count else { return nil }
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard expect("+-"), let hours = number(2), expect(":"), let minutes = number(2), hours <= 23, minutes <= 59 else { return nil }
            offset = sign * (hours * 3_600 + minutes * 60)
        }
        guard index == bytes.count, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23, minute <= 59,
            second <= 60
        else { return nil }
        // A leap second exists only as 23:59:60 UTC.
        if second == 60, ((hour * 60 + minute - offset / 60) % 1_440 + 1_440) % 1_440 != 23 * 60 + 59 { return nil }
        let whole = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second).date(utcOffset: offset)
        return whole.addingTimeInterval(fraction)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
