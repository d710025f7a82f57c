import Foundation
import FulfillmentEvents

/// One sample of every fulfillment message: `minimal` leaves every optional field out, `full` sets them all.
struct EventSample {
    let type: any FulfillmentMessage.Type
    let minimal: any FulfillmentMessage
    let full: any FulfillmentMessage

    static let all: [EventSample] = {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let orderLines = [OrderLine(sku: "SKU-APPLE", quantity: 2, unitPriceCents: 120)]
        let stockLines = [StockLine(sku: "SKU-APPLE", quantity: 2)]
        func same<M: FulfillmentMessage>(_ message: M) -> EventSample { EventSample(type: M.self, minimal: message, full: message) }
        return [
            same(OrderCreated(orderId: "o-1", userId: "u-1", lines: orderLines, totalCents: 240, currency: "usd", sagaStyle: .orchestration)),
            same(InventoryReserved(orderId: "o-1", reservationId: "r-1", lines: stockLines, expiresAt: at)),
            EventSample(
                type: InventoryReservationFailed.self,
                minimal: InventoryReservationFailed(orderId: "o-1", reason: InventoryReservationFailed.cancelled),
                full: InventoryReservationFailed(orderId: "o-1", reason: InventoryReservationFailed.insufficientStock, sku: "SKU-RARE")
            ),
            same(PaymentProcessed(orderId: "o-1", paymentId: "p-1", amountCents: 240, currency: "usd")),
            EventSample(
                type: PaymentFailed.self,
                minimal: PaymentFailed(orderId: "o-1", reason: "timeout"),
                full: PaymentFailed(orderId: "o-1", reason: "declined", declineCode: "card_declined")
            ),
            same(OrderConfirmed(orderId: "o-1")),
            same(OrderCancelled(orderId: "o-1", reason: "payment declined")),
            EventSample(
                type: InventoryReleased.self,
                minimal: InventoryReleased(orderId: "o-1"),
                full: InventoryReleased(orderId: "o-1", reservationId: "r-1")
            ),
            EventSample(
                type: PaymentRefunded.self,
                minimal: PaymentRefunded(orderId: "o-1", amountCents: 0),
                full: PaymentRefunded(orderId: "o-1", paymentId: "p-1", amountCents: 240)
            ),
            same(ReserveInventory(orderId: "o-1", lines: stockLines, expiresInSeconds: 60)),
            same(ReleaseInventory(orderId: "o-1")),
            same(ChargePayment(orderId: "o-1", userId: "u-1", amountCents: 240, currency: "usd")),
            same(RefundPayment(orderId: "o-1")),
        ]
    }()
}

/// The repository's `schemas/events` directory.
enum EventSchemas {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("schemas/events")

    static func load(_ fileName: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent(fileName))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SchemaMismatch("\(fileName) is not a JSON object")
        }
        return object
    }
}

struct SchemaMismatch: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
