import Foundation

/// A wall-clock date and time computed arithmetically from epoch seconds and a UTC offset (proleptic Gregorian,
/// Howard Hinnant's `days_from_civil` / `civil_from_days`), so formatting and parsing never depend on the
/// machine's locale or calendar settings — and cost no `DateFormatter`. Used for HTTP-dates, the APIs' local
/// times, and the simulators' timestamps.
public struct CivilTime: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    /// The wall-clock time at `date` in a zone `utcOffset` seconds east of UTC.
    public init(_ date: Date, utcOffset: Int = 0) {
        let seconds = Int(floor(date.timeIntervalSince1970)) + utcOffset
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        (year, month, day) = Self.civil(fromDays: days)
        hour = secondOfDay / 3_600
        minute = secondOfDay % 3_600 / 60
        second = secondOfDay % 60
    }

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// The instant this wall-clock time names in a zone `utcOffset` seconds east of UTC.
    public func date(utcOffset: Int = 0) -> Date {
        let seconds = Self.days(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second - utcOffset
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Days since 1970-01-01 of this date.
    public var daysSinceEpoch: Int { Self.days(year: year, month: month, day: day) }

    /// `2025-03-20`
    public var dateString: String {
        "\(String(year).leftPadded(to: 4))-\(Self.two(month))-\(Self.two(day))"
    }

    /// `2025-03-20T18:15` (Open-Meteo's local times)
    public var minuteString: String {
        "\(dateString)T\(Self.two(hour)):\(Self.two(minute))"
    }

    /// `2025-03-20 21:00:00` (OpenWeatherMap's `dt_txt`)
    public var spacedString: String {
        "\(dateString) \(Self.two(hour)):\(Self.two(minute)):\(Self.two(second))"
    }

    /// `2025-03-20T19:02:11Z` (GitHub's DateTime; only meaningful for a zero offset)
    public var iso8601String: String {
        "\(dateString)T\(Self.two(hour)):\(Self.two(minute)):\(Self.two(second))Z"
    }

    /// Days since 1970-01-01 of a civil date.
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func two(_ value: Int) -> String {
        String(value).leftPadded(to: 2)
    }
}

extension String {
    /// The string with `0`s in front, to at least `length` characters.
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
