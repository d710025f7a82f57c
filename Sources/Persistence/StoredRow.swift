import Foundation
import SQLKit

/// A stored row that cannot be read back: which table, which row, which column, and why.
///
/// Stored data that does not decode is never replaced by a default (an unreadable subscription list is not
/// "subscribed to nothing"; an unknown status is not "failed"): the reader throws this instead.
public struct UnreadableRowError: Error, Hashable, CustomStringConvertible {
    public var table: String
    /// The row's key (its `id`), or `?` when the key itself is what cannot be read.
    public var row: String
    public var column: String
    public var reason: String

    public init(table: String, row: String, column: String, reason: String) {
        self.table = table
        self.row = row
        self.column = column
        self.reason = reason
    }

    public var description: String { "\(table) row '\(row)', column \(column): \(reason)" }
}

/// Reads the columns of one row of `table`, naming table, row and column in every error.
///
/// ```swift
/// let reader = try StoredRow(row, table: "webhook_deliveries")
/// let status = try reader.decodeRawValue("status", as: WebhookDelivery.Status.self)   // unknown value: an error
/// let types = try reader.decodeJSON("event_types", as: [String].self)
/// ```
public struct StoredRow {
    public let table: String
    /// The row's key.
    public let id: String
    private let row: any SQLRow

    /// - Parameter idColumn: the column that identifies the row in errors.
    public init(_ row: any SQLRow, table: String, idColumn: String = "id") throws {
        self.row = row
        self.table = table
        do {
            self.id = try row.decode(column: idColumn, as: String.self)
        } catch {
            throw UnreadableRowError(table: table, row: "?", column: idColumn, reason: "\(error)")
        }
    }

    /// A column's value as SQLKit decodes it.
    public func decode<T: Decodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        do {
            return try row.decode(column: column, as: type)
        } catch {
            throw UnreadableRowError(table: table, row: id, column: column, reason: "cannot be read as \(T.self): \(error)")
        }
    }

    /// A column holding one of an enumeration's raw values; any other value is an error, never a default.
    public func decodeRawValue<T: RawRepresentable>(_ column: String, as type: T.Type = T.self) throws -> T where T.RawValue: Decodable {
        let raw = try decode(column, as: T.RawValue.self)
        guard let value = T(rawValue: raw) else {
            throw UnreadableRowError(table: table, row: id, column: column, reason: "'\(raw)' is not a known \(T.self)")
        }
        return value
    }

    /// A text column holding JSON.
    public func decodeJSON<T: Decodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        let text = try decode(column, as: String.self)
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw UnreadableRowError(table: table, row: id, column: column, reason: "is not JSON of \(T.self): '\(text.prefix(80))'")
        }
    }

    /// A column of milliseconds since 1970, as a date.
    public func decodeDate(_ column: String) throws -> Date {
        Date(millisecondsSince1970: try decode(column, as: Int64.self))
    }

    /// A nullable column of milliseconds since 1970, as a date.
    public func decodeDateIfPresent(_ column: String) throws -> Date? {
        try decode(column, as: Int64?.self).map(Date.init(millisecondsSince1970:))
    }
}

extension Date {
    /// Milliseconds since 1970, the portable timestamp stored in Interchange's tables.
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    public init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
    }
}
