/// Kong's `request-size-limiting` plugin: refuse bodies over a size (413).
public struct RequestSizeLimitingConfiguration: Hashable, Sendable {
    public enum SizeUnit: String, Hashable, Sendable {
        case megabytes, kilobytes, bytes

        public var bytes: Int {
            switch self {
            case .megabytes: 1_048_576
            case .kilobytes: 1024
            case .bytes: 1
            }
        }
    }

    public var allowedPayloadSize = 128
    public var sizeUnit: SizeUnit = .megabytes
    /// Refuse requests without `Content-Length` (411).
    public var requireContentLength = false

    /// The limit in bytes.
    public var limitInBytes: Int { allowedPayloadSize * sizeUnit.bytes }

    public init() {}

    init(reading config: ObjectReader) {
        allowedPayloadSize = config.integer("allowed_payload_size", default: 128, in: 0...Int(Int32.max)) ?? 128
        let unit = config.string("size_unit", default: "megabytes") {
            SizeUnit(rawValue: $0) == nil ? "expected one of: megabytes, kilobytes, bytes" : nil
        }
        sizeUnit = unit.flatMap(SizeUnit.init(rawValue:)) ?? .megabytes
        requireContentLength = config.bool("require_content_length", default: false)
    }
}
