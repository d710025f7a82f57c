/// A topic pattern over event types, in AMQP's topic-exchange syntax: words are separated by `.`, `*` matches
/// exactly one word and `#` matches zero or more (`com.example.order.*`, `com.example.#`, `#`).
///
/// The embedded transport matches with it; on RabbitMQ it is the binding key, so both route alike.
public struct TopicPattern: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let pattern: String
    private let words: [Substring]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.words = pattern.split(separator: ".", omittingEmptySubsequences: false)
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var description: String { pattern }

    /// Whether `type` (a routing key) matches.
    public func matches(_ type: String) -> Bool {
        Self.match(words[...], type.split(separator: ".", omittingEmptySubsequences: false)[...])
    }

    private static func match(_ pattern: ArraySlice<Substring>, _ key: ArraySlice<Substring>) -> Bool {
        guard let head = pattern.first else { return key.isEmpty }
        if head == "#" {
            let rest = pattern.dropFirst()
            if rest.isEmpty { return true }
            var remaining = key
            while true {
                if match(rest, remaining) { return true }
                guard !remaining.isEmpty else { return false }
                remaining = remaining.dropFirst()
            }
        }
        guard let word = key.first else { return false }
        guard head == "*" || head == word else { return false }
        return match(pattern.dropFirst(), key.dropFirst())
    }
}
