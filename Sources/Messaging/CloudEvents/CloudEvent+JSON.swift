import Foundation

// The JSON event format (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md):
// structured mode, and typed payloads.
extension CloudEvent {
    /// The media type of an event in structured mode (the whole event as one JSON object).
    public static let structuredContentType = "application/cloudevents+json"

    /// The event in structured mode: one JSON object with the attributes, extensions as top-level members, and the
    /// payload inline as `data` when `datacontenttype` declares JSON (or is absent and the bytes are JSON), otherwise
    /// Base64 in `data_base64`. `time` is written as RFC 3339 in UTC.
    ///
    /// The payload bytes are spliced in as they are (after a grammar check), never parsed and serialized again.
    /// Throws ``CloudEventValidationError`` naming `data` when `datacontenttype` declares JSON but the bytes are not,
    /// or naming an extension whose name is not allowed (it would clash with the envelope's members).
    public func jsonEncoded() throws -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(192 + (data?.count ?? 0) * 4 / 3)
        bytes.append(contentsOf: #"{"specversion":"#.utf8)
        JSONWriter.appendString(specversion, to: &bytes)
        append(member: "id", id, to: &bytes)
        append(member: "source", source, to: &bytes)
        append(member: "type", type, to: &bytes)
        if let subject { append(member: "subject", subject, to: &bytes) }
        if let time {
            bytes.append(contentsOf: #","time":""#.utf8)
            RFC3339Timestamp.append(time, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
        if let datacontenttype { append(member: "datacontenttype", datacontenttype, to: &bytes) }
        if let dataschema { append(member: "dataschema", dataschema, to: &bytes) }
        if !extensions.isEmpty {
            for name in extensions.keys.sorted() {
                try Self.validateExtensionName(name)
                bytes.append(UInt8(ascii: ","))
                JSONWriter.appendString(name, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                switch extensions[name]! {
                case .string(let value): JSONWriter.appendString(value, to: &bytes)
                case .integer(let value): bytes.append(contentsOf: String(value).utf8)
                case .boolean(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
                }
            }
        }
        if let data {
            let mayBeInline = datacontenttype.map(MediaTypeSyntax.isJSON) ?? true
            let isJSON = mayBeInline && data.withUnsafeBytes { JSONScanner.isValidJSON($0.bindMemory(to: UInt8.self)) }
            if isJSON {
                bytes.append(contentsOf: #","data":"#.utf8)
                bytes.append(contentsOf: data)
            } else if let datacontenttype, mayBeInline {
                throw CloudEventValidationError(
                    attribute: "data",
                    reason: "is not valid JSON, but datacontenttype \(datacontenttype) declares JSON"
                )
            } else {
                bytes.append(contentsOf: #","data_base64":""#.utf8)
                bytes.append(contentsOf: data.base64EncodedData())
                bytes.append(UInt8(ascii: "\""))
            }
        }
        bytes.append(UInt8(ascii: "}"))
        return Data(bytes)
    }

    /// Reads an event in structured mode. Members this type has no field for become extensions (as the JSON format
    /// requires); `null` members are absent. Throws ``CloudEventValidationError`` naming the attribute that is
    /// missing, of the wrong JSON type or unreadable (`event` when the bytes are not a JSON object).
    /// It does not ``validate()`` the rest: the bus dead-letters an invalid event with the reason.
    public init(jsonEncoded json: Data) throws {
        var strings: [String: String] = [:]
        var extensions: [String: CloudEventAttributeValue] = [:]
        var data: Data?
        var dataBase64: String?
        var dataString: String?
        var dataMemberCount = 0
        try json.withUnsafeBytes { raw in
            var scanner = JSONScanner(raw.bindMemory(to: UInt8.self))
            do {
                try scanner.readObject { name, scanner in
                    do {
                        switch name {
                        case "data":
                            let range = try scanner.skipValue()
                            let bytes = scanner.slice(range)
                            dataMemberCount += 1
                            data = Data(bytes)
                            if bytes.first == UInt8(ascii: "\"") {
                                var string = JSONScanner(bytes)
                                dataString = try string.readString()
                            }
                        case "data_base64":
                            switch try scanner.readValue() {
                            case .string(let value):
                                dataMemberCount += 1
                                dataBase64 = value
                            case .null: break
                            default: throw CloudEventValidationError(attribute: name, reason: "must be a Base64 string")
                            }
                        case "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema":
                            switch try scanner.readValue() {
                            case .string(let value): strings[name] = value
                            case .null: break
                            default: throw CloudEventValidationError(attribute: name, reason: "must be a JSON string")
                            }
                        default:
                            switch try scanner.readValue() {
                            case .string(let value): extensions[name] = .string(value)
                            case .integer(let value): extensions[name] = .integer(value)
                            case .boolean(let value): extensions[name] = .boolean(value)
                            case .null: break
                            case .other:
                                throw CloudEventValidationError(
                                    attribute: name,
                                    reason: "an extension's value must be a string, an integer or a boolean"
                                )
                            }
                        }
                    } catch let error as JSONScanner.SyntaxError {
                        throw CloudEventValidationError(attribute: name, reason: "is not valid JSON: \(error.reason)")
                    }
                }
            } catch let error as JSONScanner.SyntaxError {
                throw CloudEventValidationError(attribute: "event", reason: "not a JSON object: \(error.reason)")
            }
        }
        func required(_ name: String) throws -> String {
            guard let value = strings[name] else { throw CloudEventValidationError(attribute: name, reason: "is required") }
            return value
        }
        let specversion = try required("specversion")
        guard specversion == CloudEvent.specificationVersion else {
            throw CloudEventValidationError(attribute: "specversion", reason: "must be \"1.0\", not \"\(specversion)\"")
        }
        var time: Date?
        if let value = strings["time"] {
            guard let date = RFC3339Timestamp.date(from: value) else {
                throw CloudEventValidationError(attribute: "time", reason: "must be an RFC 3339 timestamp, not \"\(value)\"")
            }
            time = date
        }
        guard dataMemberCount <= 1 else {
            throw CloudEventValidationError(attribute: "data_base64", reason: "must not appear together with data")
        }
        if let dataBase64 {
            guard let bytes = Data(base64Encoded: dataBase64) else {
                throw CloudEventValidationError(attribute: "data_base64", reason: "is not valid Base64")
            }
            data = bytes
        } else if let dataString, let contentType = strings["datacontenttype"], !MediaTypeSyntax.isJSON(contentType) {
            // Non-JSON data travels as its string form (text/plain, application/xml, …).
            data = Data(dataString.utf8)
        }
        self.init(
            id: try required("id"),
            source: try required("source"),
            type: try required("type"),
            subject: strings["subject"],
            time: time,
            datacontenttype: strings["datacontenttype"],
            dataschema: strings["dataschema"],
            extensions: extensions,
            data: data
        )
    }

    /// An event whose `data` is `payload` encoded as JSON (`datacontenttype` `application/json`; dates as RFC 3339).
    ///
    /// ```swift
    /// let event = try CloudEvent(source: "/orders", type: "com.example.order.created", json: OrderCreated(id: "o1"))
    /// ```
    public init(
        id: String = CloudEvent.newID(),
        source: String,
        type: String,
        subject: String? = nil,
        time: Date? = Date(),
        dataschema: String? = nil,
        extensions: [String: CloudEventAttributeValue] = [:],
        json payload: some Encodable
    ) throws {
        self.init(
            id: id,
            source: source,
            type: type,
            subject: subject,
            time: time,
            datacontenttype: "application/json",
            dataschema: dataschema,
            extensions: extensions,
            data: try CloudEvent.payloadEncoder().encode(payload)
        )
    }

    /// Decodes `data` as JSON into `T`. Members `T` does not know are ignored (plain `Decodable`), so producers can
    /// add fields without breaking consumers. Throws ``CloudEventValidationError`` naming `data` (absent, not JSON,
    /// or not a `T`: the reason says which field).
    public func decodeData<T: Decodable>(as type: T.Type = T.self) throws -> T {
        guard let data else { throw CloudEventValidationError(attribute: "data", reason: "is absent; expected JSON for \(T.self)") }
        if let datacontenttype, !MediaTypeSyntax.isJSON(datacontenttype) {
            throw CloudEventValidationError(attribute: "data", reason: "is \(datacontenttype), not JSON for \(T.self)")
        }
        do {
            return try CloudEvent.payloadDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw CloudEventValidationError(attribute: "data", reason: "does not decode as \(T.self): \(Self.describe(error))")
        } catch {
            throw CloudEventValidationError(attribute: "data", reason: "does not decode as \(T.self): \(error)")
        }
    }

    static func payloadEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339Timestamp.string(from: date))
        }
        return encoder
    }

    static func payloadDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let string = try container.decode(String.self)
            guard let date = RFC3339Timestamp.date(from: string) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 timestamp: \(string)")
            }
            return date
        }
        return decoder
    }

    private func append(member name: StaticString, _ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: ","))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: #"":"#.utf8)
        JSONWriter.appendString(value, to: &bytes)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty ? "the top level" : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)) is not a \(type)"
        case .valueNotFound(let type, let context): return "\(path(context.codingPath)) is null, expected a \(type)"
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
