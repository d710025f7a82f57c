import Foundation
import InterchangeCore
import InterchangeTesting
import Persistence
import SQLKit
import Testing

@testable import WebhooksOutbound

@Suite("Endpoint secrets encrypted at rest", .serialized, .timeLimit(.minutes(1)))
struct SecretSealerTests {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    func sealer() throws -> SecretSealer {
        try SecretSealer(base64Key: SecretSealer.generateKey(), field: "test")
    }

    @Test("seals to a fresh value each time that opens to the secret")
    func roundTrip() throws {
        let sealer = try sealer()
        let first = try sealer.seal(secret, endpointID: "ep_1", column: "secret")
        let second = try sealer.seal(secret, endpointID: "ep_1", column: "secret")
        #expect(first.hasPrefix("sealed:v1:"))
        #expect(!first.contains(secret))
        #expect(first != second)  // a new nonce each time
        #expect(try sealer.open(first, endpointID: "ep_1", column: "secret") == secret)
    }

    @Test("does not open with another key, on another endpoint's row, or in another column")
    func boundToKeyAndRow() throws {
        let sealed = try sealer().seal(secret, endpointID: "ep_1", column: "secret")
        #expect(throws: SecretSealerError.self) { try sealer().open(sealed, endpointID: "ep_1", column: "secret") }
        let keyed = try sealer()
        let own = try keyed.seal(secret, endpointID: "ep_1", column: "secret")
        #expect(throws: SecretSealerError.self) { try keyed.open(own, endpointID: "ep_2", column: "secret") }
        #expect(throws: SecretSealerError.self) { try keyed.open(own, endpointID: "ep_1", column: "previous_secret") }
        #expect(throws: SecretSealerError.self) { try SecretSealer.plaintext.open(own, endpointID: "ep_1", column: "secret") }
    }

    @Test("reads plaintext rows as they are, and the plaintext sealer stores secrets as they are")
    func plaintext() throws {
        #expect(try sealer().open(secret, endpointID: "ep_1", column: "secret") == secret)
        #expect(try SecretSealer.plaintext.seal(secret, endpointID: "ep_1", column: "secret") == secret)
    }

    @Test("a key that is not base64 of 32 bytes is a configuration error naming the field", arguments: ["", "not base64!", "c2hvcnQ="])
    func badKey(key: String) {
        #expect {
            try SecretSealer(base64Key: key, field: "webhooks.secretKey")
        } throws: { error in
            (error as? ConfigurationError)?.field == "webhooks.secretKey"
        }
    }

    func engine(_ database: Database, sealer: SecretSealer) throws -> WebhookDeliveryEngine {
        try WebhookDeliveryEngine(
            database: database,
            configuration: .init(ssrfGuard: SSRFGuard(allowPrivateNetworks: true), secretSealer: sealer),
            tracer: nil
        )
    }

    func storedSecrets(_ database: Database) async throws -> [String] {
        try await database.withConnection { sql in
            try await sql.select().column("secret").from("webhook_endpoints").all().map { try $0.decode(column: "secret", as: String.self) }
        }
    }

    @Test("the database holds only sealed secrets; the engine reads them back", arguments: TestDatabase.kinds)
    func storedSealed(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let engine = try engine(database, sealer: try sealer())
            try await engine.prepare()
            let created = try await engine.createEndpoint(url: "http://127.0.0.1:9/hooks", secret: secret)
            let rotated = try await engine.rotateSecret(endpointID: created.id, overlap: .seconds(3600))
            let stored = try await storedSecrets(database)
            #expect(stored.count == 1 && stored.allSatisfy { $0.hasPrefix("sealed:v1:") && !$0.contains(rotated.secret) })
            let previous = try await database.withConnection { sql in
                try await sql.select().column("previous_secret").from("webhook_endpoints").first()?.decode(column: "previous_secret", as: String.self)
            }
            #expect(previous?.hasPrefix("sealed:v1:") == true)
            let read = try #require(try await engine.store.endpoint(id: created.id))
            #expect(read.secret == rotated.secret)
            #expect(read.previousSecret == secret)
            try await engine.shutdown()
        }
    }

    @Test("prepare() seals secrets written in plaintext before a key was configured", arguments: TestDatabase.kinds)
    func sealsLegacyRows(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let before = try engine(database, sealer: .plaintext)
            try await before.prepare()
            let created = try await before.createEndpoint(url: "http://127.0.0.1:9/hooks", secret: secret)
            try await before.shutdown()
            #expect(try await storedSecrets(database) == [secret])

            let after = try engine(database, sealer: try sealer())
            try await after.prepare()
            let stored = try await storedSecrets(database)
            #expect(stored.count == 1 && stored[0].hasPrefix("sealed:v1:"))
            #expect(try await after.store.endpoint(id: created.id)?.secret == secret)
            #expect(try await after.store.sealPlaintextSecrets() == 0)  // nothing left to seal
            try await after.shutdown()

            // Restarted with another key: refused at start-up, naming the endpoint, rather than at the first delivery.
            let wrongKey = try engine(database, sealer: try sealer())
            await #expect {
                try await wrongKey.prepare()
            } throws: { error in
                (error as? SecretSealerError)?.endpointID == created.id
            }
            try await wrongKey.shutdown()
        }
    }
}
