import CRabbitMQ
import Foundation

/// A value in an AMQP 0-9-1 field table (message headers, queue arguments), as RabbitMQ types them.
enum AMQPFieldValue: Sendable, Hashable {
    case string(String)
    case bytes(Data)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case timestamp(UInt64)
    case array([AMQPFieldValue])
    case table([AMQPHeader])
    case void
}

struct AMQPHeader: Sendable, Hashable {
    var key: String
    var value: AMQPFieldValue
}

/// The parts of an AMQP message the transport reads and writes (Swift copies, independent of rabbitmq-c's memory).
struct AMQPMessage: Sendable {
    var contentType: String?
    var messageID: String?
    var type: String?
    var headers: [AMQPHeader] = []
    var body: Data

    func header(_ key: String) -> AMQPFieldValue? { headers.first { $0.key == key }?.value }

    mutating func setHeader(_ key: String, _ value: AMQPFieldValue) {
        if let index = headers.firstIndex(where: { $0.key == key }) {
            headers[index].value = value
        } else {
            headers.append(AMQPHeader(key: key, value: value))
        }
    }
}

extension AMQPMessage {
    /// Copies a message rabbitmq-c read (`amqp_read_message`) out of its buffers.
    init(_ message: amqp_message_t) {
        let properties = message.properties
        let flags = properties._flags
        contentType = flags & CRabbitMQBasicContentTypeFlag != 0 ? String(amqpBytes: properties.content_type) : nil
        messageID = flags & CRabbitMQBasicMessageIDFlag != 0 ? String(amqpBytes: properties.message_id) : nil
        type = flags & CRabbitMQBasicTypeFlag != 0 ? String(amqpBytes: properties.type) : nil
        headers = flags & CRabbitMQBasicHeadersFlag != 0 ? [AMQPHeader](amqpTable: properties.headers) : []
        body = Data(amqpBytes: message.body)
    }
}

extension String {
    init(amqpBytes bytes: amqp_bytes_t) {
        guard let pointer = bytes.bytes, bytes.len > 0 else {
            self = ""
            return
        }
        self = String(decoding: UnsafeRawBufferPointer(start: pointer, count: bytes.len), as: UTF8.self)
    }
}

extension Data {
    init(amqpBytes bytes: amqp_bytes_t) {
        guard let pointer = bytes.bytes, bytes.len > 0 else {
            self = Data()
            return
        }
        self = Data(bytes: pointer, count: bytes.len)
    }
}

extension [AMQPHeader] {
    init(amqpTable table: amqp_table_t) {
        var headers: [AMQPHeader] = []
        headers.reserveCapacity(Int(table.num_entries))
        for index in 0..<Int(table.num_entries) {
            let entry = table.entries[index]
            if let value = AMQPFieldValue(entry.value) {
                headers.append(AMQPHeader(key: String(amqpBytes: entry.key), value: value))
            }
        }
        self = headers
    }
}

extension AMQPFieldValue {
    /// `nil` for the kinds Interchange does not carry (decimals).
    init?(_ field: amqp_field_value_t) {
        let value = field.value
        switch Int(field.kind) {
        case Int(UInt8(ascii: "t")): self = .bool(value.boolean != 0)
        case Int(UInt8(ascii: "b")): self = .int(Int64(value.i8))
        case Int(UInt8(ascii: "B")): self = .int(Int64(value.u8))
        case Int(UInt8(ascii: "s")): self = .int(Int64(value.i16))
        case Int(UInt8(ascii: "u")): self = .int(Int64(value.u16))
        case Int(UInt8(ascii: "I")): self = .int(Int64(value.i32))
        case Int(UInt8(ascii: "i")): self = .int(Int64(value.u32))
        case Int(UInt8(ascii: "l")): self = .int(value.i64)
        case Int(UInt8(ascii: "L")): self = .int(Int64(truncatingIfNeeded: value.u64))
        case Int(UInt8(ascii: "f")): self = .double(Double(value.f32))
        case Int(UInt8(ascii: "d")): self = .double(value.f64)
        case Int(UInt8(ascii: "S")): self = .string(String(amqpBytes: value.bytes))
        case Int(UInt8(ascii: "x")): self = .bytes(Data(amqpBytes: value.bytes))
        case Int(UInt8(ascii: "T")): self = .timestamp(value.u64)
        case Int(UInt8(ascii: "V")): self = .void
        case Int(UInt8(ascii: "F")): self = .table([AMQPHeader](amqpTable: value.table))
        case Int(UInt8(ascii: "A")):
            var elements: [AMQPFieldValue] = []
            for index in 0..<Int(value.array.num_entries) {
                if let element = AMQPFieldValue(value.array.entries[index]) { elements.append(element) }
            }
            self = .array(elements)
        default: return nil
        }
    }
}

/// C memory for one call into rabbitmq-c (strings, bodies, tables), freed together when the arena goes.
/// Thread-confined to the connection thread that made it.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    private func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        guard let pointer = malloc(Swift.max(count, 1)) else { preconditionFailure("out of memory") }
        allocations.append(pointer)
        return pointer
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var string = string
        return string.withUTF8 { utf8 in bytes(UnsafeRawBufferPointer(utf8)) }
    }

    func bytes(_ data: Data) -> amqp_bytes_t {
        data.withUnsafeBytes { raw in bytes(raw) }
    }

    private func bytes(_ raw: UnsafeRawBufferPointer) -> amqp_bytes_t {
        let pointer = allocate(raw.count)
        if let base = raw.baseAddress, raw.count > 0 { pointer.copyMemory(from: base, byteCount: raw.count) }
        return amqp_bytes_t(len: raw.count, bytes: pointer)
    }

    /// A C string that lives as long as the arena.
    func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8CString)
        let pointer = allocate(utf8.count)
        utf8.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: utf8.count) }
        return UnsafePointer(pointer.assumingMemoryBound(to: CChar.self))
    }

    func table(_ headers: [AMQPHeader]) -> amqp_table_t {
        guard !headers.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * headers.count).bindMemory(
            to: amqp_table_entry_t.self,
            capacity: headers.count
        )
        for (index, header) in headers.enumerated() {
            entries.advanced(by: index).initialize(to: amqp_table_entry_t(key: bytes(header.key), value: field(header.value)))
        }
        return amqp_table_t(num_entries: Int32(headers.count), entries: entries)
    }

    func field(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .string(let string):
            field.kind = UInt8(ascii: "S")
            field.value.bytes = bytes(string)
        case .bytes(let data):
            field.kind = UInt8(ascii: "x")
            field.value.bytes = bytes(data)
        case .bool(let bool):
            field.kind = UInt8(ascii: "t")
            field.value.boolean = bool ? 1 : 0
        case .int(let int):
            field.kind = UInt8(ascii: "l")
            field.value.i64 = int
        case .double(let double):
            field.kind = UInt8(ascii: "d")
            field.value.f64 = double
        case .timestamp(let seconds):
            field.kind = UInt8(ascii: "T")
            field.value.u64 = seconds
        case .void:
            field.kind = UInt8(ascii: "V")
        case .table(let headers):
            field.kind = UInt8(ascii: "F")
            field.value.table = table(headers)
        case .array(let elements):
            field.kind = UInt8(ascii: "A")
            let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * Swift.max(elements.count, 1)).bindMemory(
                to: amqp_field_value_t.self,
                capacity: Swift.max(elements.count, 1)
            )
            for (index, element) in elements.enumerated() { entries.advanced(by: index).initialize(to: self.field(element)) }
            field.value.array = amqp_array_t(num_entries: Int32(elements.count), entries: entries)
        }
        return field
    }
}
