import Foundation
import FulfillmentEvents
import HTTPIntegration
import InterchangeCore
import Resilience

/// The orders service's settings; ``validate()`` names the first bad field.
public struct OrdersConfiguration: Sendable {
    /// `fulfillment.sagaStyle`: orders sends a command per step and awaits its answer (orchestration, the default),
    /// or the participants react to each other's events and orders only tracks the saga and fires its timeouts.
    public var sagaStyle: FulfillmentSagaStyle
    /// `orders.usersBaseURL`: where the users service's API is (`http://host:port`, without `/users/api`); nil for
    /// this process (`interchange up` mounts every service on one server).
    public var usersBaseURL: String?
    /// `orders.inventoryBaseURL`, likewise for the inventory service.
    public var inventoryBaseURL: String?
    /// `orders.saga.reserveTimeout`: how long the saga waits for the stock before retrying the step.
    public var reserveTimeout: Duration
    /// `orders.saga.chargeTimeout`: how long it waits for the payment before retrying the step.
    public var chargeTimeout: Duration
    /// `orders.saga.maxAttempts`: attempts of a step (the first counts) before it fails and the saga compensates.
    public var stepMaxAttempts: Int
    /// `orders.saga.reservationLifetime`: how long inventory holds the stock (`expiresInSeconds`).
    public var reservationLifetime: Duration
    /// `orders.saga.scanInterval`: how often due step deadlines are looked for.
    public var deadlineScanInterval: Duration
    /// Retries, breaker and timeouts for the calls to users and inventory.
    public var upstreamPolicy: HostPolicy

    public init(
        sagaStyle: FulfillmentSagaStyle = .orchestration,
        usersBaseURL: String? = nil,
        inventoryBaseURL: String? = nil,
        reserveTimeout: Duration = .seconds(30),
        chargeTimeout: Duration = .seconds(30),
        stepMaxAttempts: Int = 3,
        reservationLifetime: Duration = .seconds(15 * 60),
        deadlineScanInterval: Duration = .seconds(1),
        upstreamPolicy: HostPolicy = OrdersConfiguration.defaultUpstreamPolicy
    ) {
        self.sagaStyle = sagaStyle
        self.usersBaseURL = usersBaseURL
        self.inventoryBaseURL = inventoryBaseURL
        self.reserveTimeout = reserveTimeout
        self.chargeTimeout = chargeTimeout
        self.stepMaxAttempts = stepMaxAttempts
        self.reservationLifetime = reservationLifetime
        self.deadlineScanInterval = deadlineScanInterval
        self.upstreamPolicy = upstreamPolicy
    }

    /// Two attempts of 2 s each, 5 s in all: a placement waits for users and inventory, but not for long.
    public static let defaultUpstreamPolicy = HostPolicy(
        retry: RetryPolicy(maxAttempts: 2),
        attemptTimeout: .seconds(2),
        totalTimeout: .seconds(5)
    )

    /// Parses `fulfillment.sagaStyle`.
    ///
    /// - Throws: ``ConfigurationError`` naming `fulfillment.sagaStyle` for anything but the two styles.
    public static func sagaStyle(_ text: String, source: String? = nil) throws -> FulfillmentSagaStyle {
        guard let style = FulfillmentSagaStyle(rawValue: text.lowercased()) else {
            throw ConfigurationError(
                field: "fulfillment.sagaStyle",
                reason: "must be orchestration or choreography (got '\(text.prefix(40))')",
                source: source
            )
        }
        return style
    }

    /// Throws ``ConfigurationError`` naming the first bad field.
    public func validate() throws {
        if let usersBaseURL { _ = try HTTPURL.parse(usersBaseURL, rules: .baseURL, field: "orders.usersBaseURL") }
        if let inventoryBaseURL { _ = try HTTPURL.parse(inventoryBaseURL, rules: .baseURL, field: "orders.inventoryBaseURL") }
        for (field, timeout) in [("orders.saga.reserveTimeout", reserveTimeout), ("orders.saga.chargeTimeout", chargeTimeout)] {
            try ConfigurationError.require(
                timeout >= .milliseconds(10) && timeout <= .seconds(3600),
                field: field,
                "must be 10 ms to 1 hour",
                got: timeout
            )
        }
        try ConfigurationError.require(
            (1...20).contains(stepMaxAttempts),
            field: "orders.saga.maxAttempts",
            "must be 1 to 20",
            got: stepMaxAttempts
        )
        try ConfigurationError.require(
            reservationLifetime >= .seconds(1) && reservationLifetime <= .seconds(7 * 24 * 3600),
            field: "orders.saga.reservationLifetime",
            "must be 1 second to 7 days",
            got: reservationLifetime
        )
        try ConfigurationError.require(
            deadlineScanInterval >= .milliseconds(1) && deadlineScanInterval <= .seconds(60),
            field: "orders.saga.scanInterval",
            "must be 1 ms to 60 s",
            got: deadlineScanInterval
        )
        do { try upstreamPolicy.validate() } catch let error as ConfigurationError { throw error.nested(under: "orders.upstreamPolicy") }
    }
}
