import Foundation
import InterchangeCore
import Messaging
import Testing

@testable import MessagingAMQP

@Suite struct AMQPConfigurationTests {
    @Test func readsCredentialsHostPortAndVhostFromTheURL() throws {
        let configuration = try AMQPConfiguration(url: "amqp://svc:s%40cret@rabbit.internal:5673/prod?heartbeat=10&connection_timeout=2500")
        #expect(configuration.user == "svc")
        #expect(configuration.password == "s@cret")
        #expect(configuration.host == "rabbit.internal")
        #expect(configuration.port == 5673)
        #expect(configuration.vhost == "prod")
        #expect(configuration.heartbeat == 10)
        #expect(configuration.connectionTimeout == .milliseconds(2500))
        #expect(configuration.tls == nil)
        #expect(configuration.exchange == "interchange.events")
        #expect(configuration.redactedURL == "amqp://svc:***@rabbit.internal:5673/prod")
        #expect(!String(describing: configuration).contains("cret") && !String(reflecting: configuration).contains("cret"))
    }

    @Test func defaultsToGuestTheRootVhostAndThePortOfTheScheme() throws {
        let plain = try AMQPConfiguration(url: "amqp://localhost")
        #expect(plain.user == "guest" && plain.password == "guest" && plain.port == 5672 && plain.vhost == "/")
        let escapedRoot = try AMQPConfiguration(url: "amqp://localhost/%2F")
        #expect(escapedRoot.vhost == "/")
        let secure = try AMQPConfiguration(url: "amqps://localhost")
        #expect(secure.port == 5671)
        #expect(secure.tls?.caCertificateFile == AMQPConfiguration.systemCABundle)
        let ownCA = try AMQPConfiguration(url: "amqps://localhost?cacertfile=/etc/rabbit/ca.pem&certfile=/c.pem&keyfile=/k.pem")
        #expect(ownCA.tls == AMQPConfiguration.TLS(caCertificateFile: "/etc/rabbit/ca.pem", certificateFile: "/c.pem", keyFile: "/k.pem"))
    }

    @Test(arguments: [
        ("http://localhost", "the scheme must be amqp or amqps"),
        ("amqp://", "names no host"),
        ("amqp://localhost:0", "the port must be 1–65535"),
        ("amqp://localhost/a/b", "one path segment"),
        ("amqp://localhost?heartbeat=soon", "heartbeat must be"),
        ("amqp://localhost?cacertfile=/ca.pem", "cacertfile needs an amqps:// URL"),
        ("amqps://localhost?certfile=/c.pem", "certfile and keyfile go together"),
        ("amqp://localhost?frame_max=1", "unknown query option frame_max"),
        ("not a url at all", "is not a URL"),
    ])
    func aBadURLNamesTheFieldAndWhatIsWrong(url: String, reason: String) {
        let error = #expect(throws: ConfigurationError.self) { try AMQPConfiguration(url: url) }
        #expect(error?.field == "broker.url")
        #expect(error?.reason.contains(reason) == true, "\(error?.reason ?? "")")
    }

    @Test func theFieldNamedInErrorsIsTheCallersSetting() {
        let error = #expect(throws: ConfigurationError.self) { try AMQPConfiguration(url: "amqp://", field: "--broker") }
        #expect(error?.description.hasPrefix("--broker:") == true)
    }

    @Test func structuredModeCarriesTheJSONEnvelope() throws {
        let event = try testEvent(number: 7)
        let message = try AMQPMessage(event: event, mode: .structured)
        #expect(message.contentType == "application/cloudevents+json")
        #expect(message.messageID == event.id)
        #expect(message.headers.isEmpty)
        #expect(try CloudEvent(jsonEncoded: message.body) == event)
        #expect(try CloudEvent(amqpMessage: message) == event)
    }

    @Test func binaryModeCarriesAttributesInHeadersAndDataAsTheBody() throws {
        var event = try testEvent(number: 8)
        event.extensions["priority"] = .integer(3)
        let message = try AMQPMessage(event: event, mode: .binary)
        #expect(message.contentType == "application/json")
        #expect(message.body == event.data)
        #expect(message.header("cloudEvents_id") == .string(event.id))
        #expect(message.header("cloudEvents_type") == .string("test.order.created"))
        #expect(message.header("cloudEvents_priority") == .int(3))
        #expect(try CloudEvent(amqpMessage: message) == event)
    }

    @Test func aMessageThatIsNoCloudEventFailsToDecodeNamingWhy() {
        let garbage = AMQPMessage(contentType: "text/plain", body: Data("hello".utf8))
        let error = #expect(throws: CloudEventValidationError.self) { try CloudEvent(amqpMessage: garbage) }
        #expect(error?.attribute == "specversion")
    }

    @Test func retryQueuesHaveOneDelayEachAndCollapseEqualDelays() throws {
        let configuration = try AMQPConfiguration(url: "amqp://localhost")
        let exponential = try GroupTopology(
            subscription: Subscription(
                group: "billing",
                bindings: ["com.example.#"],
                maxAttempts: 5,
                retryDelay: .exponential(initial: .seconds(1), maxDelay: .seconds(4), jitter: .full)
            ),
            configuration: configuration
        )
        #expect(exponential.queue == "interchange.events.billing")
        #expect(exponential.retryQueues.map(\.milliseconds) == [1000, 2000, 4000, 4000])
        #expect(exponential.retryQueue(afterAttempt: 1) == "interchange.events.billing.retry.1000ms")
        #expect(exponential.retryQueue(afterAttempt: 4) == "interchange.events.billing.retry.4000ms")
        let constant = try GroupTopology(
            subscription: Subscription(group: "g", bindings: ["#"], maxAttempts: 3, retryDelay: .constant(.milliseconds(250))),
            configuration: configuration
        )
        #expect(Set(constant.retryQueues.map(\.name)) == ["interchange.events.g.retry.250ms"])
    }

    @Test func aBadSubscriptionNamesItsField() throws {
        let configuration = try AMQPConfiguration(url: "amqp://localhost")
        let badGroup = #expect(throws: ConfigurationError.self) {
            try GroupTopology(subscription: Subscription(group: "no spaces", bindings: ["#"]), configuration: configuration)
        }
        #expect(badGroup?.field == "subscription.group")
        let noBindings = #expect(throws: ConfigurationError.self) {
            try GroupTopology(subscription: Subscription(group: "g", bindings: []), configuration: configuration)
        }
        #expect(noBindings?.field == "subscription.bindings")
    }
}

@Suite(.timeLimit(.minutes(1))) struct AMQPUnreachableBrokerTests {
    /// Port 1 on loopback: nothing listens there.
    let configuration = try! AMQPConfiguration(url: "amqp://svc:topsecret@127.0.0.1:1/")

    @Test func connectingToAnUnreachableBrokerNamesTheSettingAndNotThePassword() async throws {
        let transport = AMQPTransport(configuration: configuration, logger: TestBroker.logger)
        let error = await #expect(throws: AMQPError.self) { try await transport.connect() }
        await transport.shutdown()
        #expect(error?.code == .unreachable)
        let message = error.map(String.init(describing:)) ?? ""
        #expect(message.hasPrefix("broker.url: RabbitMQ at amqp://svc:***@127.0.0.1:1/%2F is unreachable"), "\(message)")
        #expect(!message.contains("topsecret"))
    }

    @Test func publishingAndConsumingFailTooInsteadOfWaitingForever() async throws {
        let transport = AMQPTransport(configuration: configuration, logger: TestBroker.logger)
        let publishError = await #expect(throws: AMQPError.self) { try await transport.publish([try testEvent()]) }
        #expect(publishError?.field == "broker.url")
        let consumeError = await #expect(throws: AMQPError.self) {
            try await transport.consume(Subscription(group: "g", bindings: ["#"])) { _ in .ack }
        }
        #expect(consumeError?.code == .unreachable)
        var iterator = transport.tail(["#"]).makeAsyncIterator()
        let tailError = await #expect(throws: AMQPError.self) { _ = try await iterator.next() }
        #expect(tailError?.code == .unreachable)
        await transport.shutdown()
    }
}
