import Resilience
import Testing

@testable import Messaging

@Suite struct EmbeddedDeliverySettlementTests {
    @Test("outcomes sort into acknowledged, retried after the delay, and dead (at once, or on the last attempt)")
    func sortsOutcomes() throws {
        var settlement = DeliverySettlement(maxAttempts: 3, retryDelay: try .constant(.seconds(2)), jitter: .fixed(0.5))
        settlement.record(.ack, seq: 1, attempt: 1, now: 1000)
        settlement.record(.retry(reason: "busy"), seq: 2, attempt: 2, now: 1000)
        settlement.record(.retry(reason: "still busy"), seq: 3, attempt: 3, now: 1000)
        settlement.record(.deadLetter(reason: "bad JSON"), seq: 4, attempt: 1, now: 1000)
        settlement.release(seq: 5, attempt: 1)
        #expect(settlement.acknowledged == [1])
        #expect(settlement.retries == [.init(seq: 2, attempt: 2, availableAt: 3000, error: "busy")])
        #expect(settlement.dead == [.init(seq: 3, attempt: 3, error: "still busy"), .init(seq: 4, attempt: 1, error: "bad JSON")])
        #expect(settlement.released.map(\.seq) == [5])
        #expect(!settlement.onlyAcknowledgements)
    }

    @Test("a long reason is cut to the stored length")
    func truncatesReasons() {
        var settlement = DeliverySettlement(maxAttempts: 1, retryDelay: .standard, jitter: .fixed(0))
        settlement.record(.retry(reason: String(repeating: "x", count: 5000)), seq: 1, attempt: 1, now: 0)
        #expect(settlement.dead.first?.error.count == DeliverySettlement.maxErrorLength)
    }
}
