import InterchangeTesting
import SQLKit
import Testing

@testable import Persistence

@Suite("SQLite transactions take turns", .timeLimit(.minutes(1)))
struct SerialTransactionTests {
    @Test("transactions of one process run in the order they arrived, each after the last committed")
    func arrivalOrder() async throws {
        try await TestDatabase.with(.sqlite) { database in
            try await database.withConnection { sql in
                try await sql.create(table: "turns").column("n", type: .int, .notNull).run()
            }
            let gate = Gate()
            let order = LockedValue<[Int]>([])
            let inside = ConcurrencyProbe()
            try await withThrowingTaskGroup(of: Void.self) { group in
                @Sendable func transaction(_ number: Int) async throws {
                    try await database.transaction { sql in
                        inside.enter()
                        defer { inside.leave() }
                        order.append(number)
                        if number == 0 { await gate.wait() }
                        try await sql.insert(into: "turns").columns("n").values(SQLBind(number)).run()
                    }
                }
                group.addTask { try await transaction(0) }
                try await waitUntil("the first transaction holds the turn") { order.value == [0] }
                // Each one queues behind the previous: without turns they would sleep in SQLite's busy handler and
                // wake in whatever order their naps end.
                for number in 1...8 {
                    group.addTask { try await transaction(number) }
                    try await waitUntil("transaction \(number) waits its turn") { database.transactions.waiting == number }
                }
                gate.open()
                try await group.waitForAll()
            }
            #expect(order.value == Array(0...8))
            #expect(inside.peak == 1)
            let stored = try await database.withConnection { sql in
                try await sql.select().column("n").from("turns").all().map { try $0.decode(column: "n", as: Int.self) }
            }
            #expect(stored.sorted() == Array(0...8))
        }
    }

    @Test("a write (one statement) queues behind a running transaction instead of meeting its lock")
    func writesTakeTurns() async throws {
        try await TestDatabase.with(.sqlite) { database in
            try await database.withConnection { sql in
                try await sql.create(table: "turns").column("n", type: .int, .notNull).run()
            }
            let gate = Gate()
            let order = LockedValue<[String]>([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await database.transaction { sql in
                        order.append("transaction")
                        await gate.wait()
                        try await sql.insert(into: "turns").columns("n").values(SQLBind(1)).run()
                    }
                }
                try await waitUntil("the transaction holds the turn") { order.value == ["transaction"] }
                group.addTask {
                    try await database.write { sql in
                        order.append("write")
                        try await sql.insert(into: "turns").columns("n").values(SQLBind(2)).run()
                    }
                }
                try await waitUntil("the write waits its turn") { database.transactions.waiting == 1 }
                #expect(order.value == ["transaction"])
                gate.open()
                try await group.waitForAll()
            }
            #expect(order.value == ["transaction", "write"])
        }
    }
}
