import Foundation
import FulfillmentInventory
import FulfillmentPayments
import InterchangeTesting
import Persistence
import SQLKit

@testable import FulfillmentOrders

/// The invariants of #11, checked across the services' databases after a scenario:
/// every order ended CONFIRMED or CANCELLED; per SKU, available + reserved = initial − confirmed quantity (and
/// nothing is left reserved); every charge belongs to a confirmed order or was refunded (the provider holds exactly
/// the confirmed orders' money); no event was handled twice by one consumer.
enum InvariantChecks {
    /// What is violated now (empty when all hold).
    static func violations(_ system: FulfillmentSystem, initial: [StockItem]) async throws -> [String] {
        var violations: [String] = []
        let orders = try await system.orders.store.orders(limit: 500)
        for order in orders where !order.status.isFinal {
            violations.append("order \(order.id) is \(order.status.rawValue)")
        }
        let confirmed = orders.filter { $0.status == .confirmed }
        var sold: [String: Int] = [:]
        for order in confirmed {
            for line in order.lines { sold[line.sku, default: 0] += line.quantity }
        }
        for item in initial {
            guard let now = try await system.inventory.store.stock(sku: item.sku) else {
                violations.append("SKU \(item.sku) is gone")
                continue
            }
            let expected = item.available - sold[item.sku, default: 0]
            if now.available + now.reserved != expected || now.reserved != 0 {
                violations.append("SKU \(item.sku): available \(now.available) + reserved \(now.reserved), expected \(expected) + 0")
            }
        }
        let confirmedIDs = Set(confirmed.map(\.id))
        for payment in try await system.payments.store.allPayments() where payment.status == .charged && !confirmedIDs.contains(payment.orderID) {
            violations.append("payment \(payment.id) of order \(payment.orderID) is charged but the order is not confirmed")
        }
        let expectedHeld = confirmed.reduce(0) { $0 + $1.totalCents }
        if system.provider.heldCents != expectedHeld {
            violations.append("the provider holds \(system.provider.heldCents)¢, the confirmed orders total \(expectedHeld)¢")
        }
        for (service, database) in [
            ("orders", system.orders.store.database), ("inventory", system.inventory.store.database),
            ("payments", system.payments.store.database),
        ] {
            let duplicates = try await database.withConnection { sql in
                try await sql.raw(
                    "SELECT consumer, source, event_id FROM messaging_inbox GROUP BY consumer, source, event_id HAVING COUNT(*) > 1"
                ).all()
            }
            if !duplicates.isEmpty { violations.append("\(service): \(duplicates.count) events recorded twice in the inbox") }
        }
        return violations
    }

    /// Waits (bounded) until every invariant holds — participants finish compensating or selling shortly after the
    /// order's final status — and fails naming what is still violated.
    static func expectAllHold(_ system: FulfillmentSystem, initial: [StockItem] = FulfillmentSystem.seed) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(20))
        var last: [String] = []
        while clock.now < deadline {
            last = try await violations(system, initial: initial)
            if last.isEmpty { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw FlowFailure("invariants violated after 20 s: \(last.joined(separator: "; "))")
    }
}
