import MessagingAMQP
import Testing

@Suite struct RabbitMQCTests {
    @Test func linksDebiansRabbitMQC() {
        #expect(RabbitMQC.version.hasPrefix("0.1"))
    }
}
