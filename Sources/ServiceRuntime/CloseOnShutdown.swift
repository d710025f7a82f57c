import ServiceLifecycle

/// A service that does nothing until graceful shutdown, then closes what a component owns (its database, its HTTP
/// client). A `ServiceGroup` stops its services in reverse order, so put it first in a component's `services`: it
/// then runs after the component's relays and consumers have stopped using what it closes.
///
/// ```swift
/// public var services: [any Service] { [CloseOnShutdown { try await database.shutdown() }, relay, consumer] }
/// ```
public struct CloseOnShutdown: Service {
    private let close: @Sendable () async throws -> Void

    public init(_ close: @escaping @Sendable () async throws -> Void) {
        self.close = close
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }
}
