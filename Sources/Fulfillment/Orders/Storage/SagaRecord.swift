import Sagas

/// An order's saga as stored: the state machine, and the replies that arrived before the saga reached their step
/// (events of different services are not ordered with each other), applied once it does.
struct SagaRecord: Sendable, Hashable {
    var instance: SagaInstance
    var pending: [SagaInput]
}
