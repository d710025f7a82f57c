import Foundation
import FulfillmentEvents
import Messaging
import Persistence
import Sagas

/// The participants' events the orders service consumes (group `fulfillment.orders`), each turned into the saga
/// input it means and applied in the inbox's transaction: the reply is handled once, and the saga's new state and
/// the messages it sends next commit together with the inbox row.
enum SagaReplies {
    static let group = FulfillmentService.orders.consumerGroup

    /// The same events in both styles: in orchestration they answer orders' commands, in choreography they are
    /// the participants reacting to each other.
    static let types: [any FulfillmentMessage.Type] = [
        InventoryReserved.self, InventoryReservationFailed.self, PaymentProcessed.self, PaymentFailed.self,
        InventoryReleased.self, PaymentRefunded.self,
    ]

    /// The saga input `event` stands for; nil for a type orders does not consume.
    ///
    /// - Throws: a decoding error when the data does not match its type (the bus dead-letters such events first).
    static func input(for event: CloudEvent) throws -> (orderID: String, input: SagaInput)? {
        let id = event.id
        switch event.type {
        case InventoryReserved.type:
            let reply = try event.decodeData(as: InventoryReserved.self)
            return (reply.orderId, .succeeded(step: OrderSagaDefinition.reserve, messageID: id))
        case InventoryReservationFailed.type:
            let reply = try event.decodeData(as: InventoryReservationFailed.self)
            let detail = reply.sku.map { "\(reply.reason) (\($0))" } ?? reply.reason
            return (reply.orderId, .failed(step: OrderSagaDefinition.reserve, reason: detail, messageID: id))
        case PaymentProcessed.type:
            let reply = try event.decodeData(as: PaymentProcessed.self)
            return (reply.orderId, .succeeded(step: OrderSagaDefinition.charge, messageID: id))
        case PaymentFailed.type:
            let reply = try event.decodeData(as: PaymentFailed.self)
            let detail = reply.declineCode.map { "\(reply.reason) (\($0))" } ?? reply.reason
            return (reply.orderId, .failed(step: OrderSagaDefinition.charge, reason: detail, messageID: id))
        case InventoryReleased.type:
            let reply = try event.decodeData(as: InventoryReleased.self)
            return (reply.orderId, .compensated(step: OrderSagaDefinition.reserve, messageID: id))
        case PaymentRefunded.type:
            let reply = try event.decodeData(as: PaymentRefunded.self)
            return (reply.orderId, .compensated(step: OrderSagaDefinition.charge, messageID: id))
        default:
            return nil
        }
    }

    /// The consumer, to run in the component's services.
    static func consumer(bus: EventBus, saga: OrderSaga, inbox: Inbox, wake: @escaping @Sendable () -> Void) -> EventConsumer {
        let subscription = Subscription(group: group, bindings: types.map { TopicPattern($0.type) }, maxAttempts: 10)
        let database = saga.store.database
        return bus.consumer(subscription) { event, _ in
            guard let (orderID, input) = try input(for: event) else {
                throw PoisonEvent(reason: "orders does not consume \(event.type)")
            }
            let handled = try await database.handleOnce(event, inbox: inbox) { sql in
                guard try await saga.apply(input, toOrder: orderID, in: sql) != nil else {
                    throw PoisonEvent(reason: "no order \(orderID) in the orders service")
                }
                return true
            }
            if handled != nil { wake() }
        }
    }
}
