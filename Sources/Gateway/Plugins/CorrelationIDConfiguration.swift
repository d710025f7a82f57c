/// Kong's `correlation-id` plugin: a request id in a header, generated when the client sent none.
public struct CorrelationIDConfiguration: Hashable, Sendable {
    public enum Generator: String, Hashable, Sendable {
        case uuid
        case uuidCounter = "uuid#counter"
        case tracker
    }

    public var headerName = "Kong-Request-ID"
    public var generator: Generator = .uuidCounter
    /// Also send the id back to the client.
    public var echoDownstream = false

    public init() {}

    init(reading config: ObjectReader) {
        headerName = config.string("header_name", default: headerName) ?? headerName
        let generator = config.string("generator", default: "uuid#counter") {
            Generator(rawValue: $0) == nil ? "expected one of: uuid, uuid#counter, tracker" : nil
        }
        self.generator = generator.flatMap(Generator.init(rawValue:)) ?? .uuidCounter
        echoDownstream = config.bool("echo_downstream", default: false)
    }
}
