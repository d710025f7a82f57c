import Messaging
import Testing

@Suite struct TopicPatternTests {
    @Test(arguments: [
        ("com.example.order.created", "com.example.order.created", true),
        ("com.example.order.*", "com.example.order.created", true),
        ("com.example.order.*", "com.example.order.created.v2", false),
        ("com.example.#", "com.example.order.created", true),
        ("com.example.#", "com.example", true),
        ("#", "anything.at.all", true),
        ("*.order.#", "com.order", true),
        ("*.order.#", "order", false),
        ("com.#.created", "com.example.order.created", true),
        ("com.#.created", "com.created", true),
        ("com.#.created", "com.example.order.paid", false),
        ("com.example.order", "com.example.orders", false),
    ])
    func matchesLikeAnAMQPTopicExchange(pattern: String, type: String, expected: Bool) {
        #expect(TopicPattern(pattern).matches(type) == expected)
    }
}
