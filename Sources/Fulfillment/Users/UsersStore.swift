import Crypto
import Foundation
import Persistence
import SQLKit

/// A registered user.
public struct FulfillmentUser: Sendable, Hashable {
    public var id: String
    public var name: String
    public var email: String
    public var createdAt: Date
}

/// An API key as stored: never its secret, only the SHA-256 hash of it.
public struct StoredAPIKey: Sendable, Hashable {
    public var id: String
    public var userID: String
    /// The key's first characters (`ik_` and 8 hex digits), shown in listings to recognise it.
    public var prefix: String
    public var createdAt: Date
    public var revokedAt: Date?
}

/// Why the store refused something; the API maps each to a problem naming the field.
public enum UsersStoreError: Error, Hashable, CustomStringConvertible {
    case emailTaken(String)
    case userNotFound(String)
    case keyNotFound(userID: String, keyID: String)

    public var description: String {
        switch self {
        case .emailTaken(let email): "a user with email \(email) is already registered"
        case .userNotFound(let id): "no user \(id)"
        case .keyNotFound(let userID, let keyID): "user \(userID) has no API key \(keyID)"
        }
    }
}

/// The users service's tables (`fulfillment_users`, `fulfillment_api_keys`) in its own database.
public struct UsersStore: Sendable {
    public let database: Database
    private let now: @Sendable () -> Date

    public init(database: Database, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    public static let migrations: [Migration] = [
        Migration("fulfillment-users-1") { sql, _ in
            try await sql.create(table: "fulfillment_users")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("name", type: .text, .notNull)
                .column("email", type: .text, .notNull, .unique)
                .column("created_at", type: .bigint, .notNull)
                .run()
            try await sql.create(table: "fulfillment_api_keys")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("user_id", type: .text, .notNull)
                .column("prefix", type: .text, .notNull)
                // Hex SHA-256 of the whole key; the secret itself is never stored.
                .column("key_hash", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .column("revoked_at", type: .bigint)
                .run()
            try await sql.create(index: "fulfillment_api_keys_prefix").on("fulfillment_api_keys").column("prefix").run()
            try await sql.create(index: "fulfillment_api_keys_user").on("fulfillment_api_keys").column("user_id").run()
        }
    ]

    public func prepare() async throws { try await database.migrate(Self.migrations) }

    public func ping() async throws { _ = try await database.withConnection { sql in try await sql.raw("SELECT 1 AS one").all() } }

    // MARK: Users

    /// Registers a user; the email is stored lower-cased and must be new.
    public func createUser(name: String, email: String) async throws -> FulfillmentUser {
        let user = FulfillmentUser(id: Self.newID("usr_"), name: name, email: email.lowercased(), createdAt: Self.rounded(now()))
        let inserted = try await database.transaction { sql in
            let row = try await sql.raw(
                """
                INSERT INTO fulfillment_users (id, name, email, created_at)
                VALUES (\(bind: user.id), \(bind: user.name), \(bind: user.email), \(bind: user.createdAt.millisecondsSince1970))
                ON CONFLICT (email) DO NOTHING RETURNING id
                """
            ).first()
            return row != nil
        }
        guard inserted else { throw UsersStoreError.emailTaken(user.email) }
        return user
    }

    public func user(id: String) async throws -> FulfillmentUser? {
        try await database.withConnection { sql in
            try await sql.select().columns("id", "name", "email", "created_at").from("fulfillment_users")
                .where("id", .equal, SQLBind(id)).first().map(Self.user)
        }
    }

    public func users() async throws -> [FulfillmentUser] {
        try await database.withConnection { sql in
            try await sql.select().columns("id", "name", "email", "created_at").from("fulfillment_users")
                .orderBy("created_at").orderBy("id").all().map(Self.user)
        }
    }

    // MARK: API keys

    /// Creates a key for `userID` and returns it with its secret (`ik_<8 hex>_<64 hex>`), which is not kept.
    public func createAPIKey(userID: String) async throws -> (key: StoredAPIKey, secret: String) {
        let prefix = "ik_" + Self.randomHex(bytes: 4)
        let secret = prefix + "_" + Self.randomHex(bytes: 32)
        let key = StoredAPIKey(id: Self.newID("key_"), userID: userID, prefix: prefix, createdAt: Self.rounded(now()))
        try await database.transaction { sql in
            guard try await Self.userExists(userID, in: sql) else { throw UsersStoreError.userNotFound(userID) }
            try await sql.insert(into: "fulfillment_api_keys")
                .columns("id", "user_id", "prefix", "key_hash", "created_at")
                .values(
                    SQLBind(key.id),
                    SQLBind(userID),
                    SQLBind(prefix),
                    SQLBind(Self.sha256Hex(secret)),
                    SQLBind(key.createdAt.millisecondsSince1970)
                )
                .run()
        }
        return (key, secret)
    }

    /// The user's keys, oldest first; throws ``UsersStoreError/userNotFound(_:)``.
    public func apiKeys(userID: String) async throws -> [StoredAPIKey] {
        try await database.withConnection { sql in
            guard try await Self.userExists(userID, in: sql) else { throw UsersStoreError.userNotFound(userID) }
            return try await sql.select().columns("id", "user_id", "prefix", "created_at", "revoked_at").from("fulfillment_api_keys")
                .where("user_id", .equal, SQLBind(userID)).orderBy("created_at").orderBy("id").all().map(Self.apiKey)
        }
    }

    /// Marks the key revoked (once: a second revocation keeps the first time).
    public func revokeAPIKey(userID: String, keyID: String) async throws {
        let at = now().millisecondsSince1970
        try await database.transaction { sql in
            let row = try await sql.select().column("id").from("fulfillment_api_keys")
                .where("id", .equal, SQLBind(keyID)).where("user_id", .equal, SQLBind(userID)).first()
            guard row != nil else {
                guard try await Self.userExists(userID, in: sql) else { throw UsersStoreError.userNotFound(userID) }
                throw UsersStoreError.keyNotFound(userID: userID, keyID: keyID)
            }
            try await sql.update("fulfillment_api_keys").set("revoked_at", to: SQLBind(at))
                .where("id", .equal, SQLBind(keyID)).where("revoked_at", .is, SQLLiteral.null).run()
        }
    }

    /// The key whose secret is `secret`, if it exists and is not revoked. Candidates are found by the non-secret
    /// prefix; the hashes are compared in constant time, so the answer's timing says nothing about the secret.
    public func verify(secret: String) async throws -> StoredAPIKey? {
        let parts = secret.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "ik" else { return nil }
        let prefix = "ik_" + parts[1]
        let presented = Self.hashBytes(secret)
        return try await database.withConnection { sql in
            let rows = try await sql.select().columns("id", "user_id", "prefix", "key_hash", "created_at", "revoked_at")
                .from("fulfillment_api_keys").where("prefix", .equal, SQLBind(prefix)).all()
            var match: StoredAPIKey?
            for row in rows {
                let stored = try StoredRow(row, table: "fulfillment_api_keys")
                let hash = Array(hexDecoding: try stored.decode("key_hash", as: String.self)) ?? []
                if Self.constantTimeEquals(hash, presented) { match = try Self.apiKey(row) }
            }
            guard let match, match.revokedAt == nil else { return nil }
            return match
        }
    }

    // MARK: Rows and helpers

    private static func userExists(_ id: String, in sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("id").from("fulfillment_users").where("id", .equal, SQLBind(id)).first() != nil
    }

    private static func user(_ row: any SQLRow) throws -> FulfillmentUser {
        let stored = try StoredRow(row, table: "fulfillment_users")
        return FulfillmentUser(
            id: stored.id,
            name: try stored.decode("name"),
            email: try stored.decode("email"),
            createdAt: try stored.decodeDate("created_at")
        )
    }

    private static func apiKey(_ row: any SQLRow) throws -> StoredAPIKey {
        let stored = try StoredRow(row, table: "fulfillment_api_keys")
        return StoredAPIKey(
            id: stored.id,
            userID: try stored.decode("user_id"),
            prefix: try stored.decode("prefix"),
            createdAt: try stored.decodeDate("created_at"),
            revokedAt: try stored.decodeDateIfPresent("revoked_at")
        )
    }

    static func hashBytes(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Data(secret.utf8))) }
    /// The hex SHA-256 of a key, as `fulfillment_api_keys.key_hash` holds it.
    public static func sha256Hex(_ secret: String) -> String { hashBytes(secret).map { String(format: "%02x", $0) }.joined() }

    /// Compares every byte whatever the first difference, so the time taken does not depend on where it is.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }

    static func newID(_ prefix: String) -> String { prefix + randomHex(bytes: 12) }

    /// Times are stored in milliseconds; what is returned at creation equals what is read back later.
    static func rounded(_ date: Date) -> Date { Date(millisecondsSince1970: date.millisecondsSince1970) }
}

extension Array where Element == UInt8 {
    init?(hexDecoding hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
