import CRabbitMQ
import Foundation

/// One rabbitmq-c connection with one channel (1) in confirm mode. rabbitmq-c is not thread-safe per connection,
/// so a session is created, used and closed on one ``AMQPConnectionThread`` only; it is never shared.
///
/// Publisher confirms: every publish gets the channel's next delivery tag and a callback; the broker's `basic.ack`
/// (possibly `multiple`, covering every tag up to it) or `basic.nack` settles them as frames are read. Nothing
/// waits for one confirm before the next publish.
final class AMQPSession {
    typealias Confirmation = (Result<Void, AMQPError>) -> Void

    struct Delivered {
        var deliveryTag: UInt64
        var redelivered: Bool
        var routingKey: String
        var message: AMQPMessage
    }

    private let connection: amqp_connection_state_t
    private let field: String
    let channel: amqp_channel_t = 1
    private var nextPublishTag: UInt64 = 1
    private var lowestUnconfirmed: UInt64 = 1
    private var unconfirmed: [UInt64: (confirmation: Confirmation, sentAt: ContinuousClock.Instant)] = [:]
    /// Mandatory publishes by message id, so a `basic.return` (which carries no delivery tag) finds its tag.
    private var mandatoryTags: [String: UInt64] = [:]
    private var mandatoryIDs: [UInt64: String] = [:]
    private var returned: [UInt64: String] = [:]
    private var closed = false

    var unconfirmedCount: Int { unconfirmed.count }

    /// When the oldest publish still awaiting its confirm was sent.
    var oldestUnconfirmedSentAt: ContinuousClock.Instant? { unconfirmed.isEmpty ? nil : unconfirmed[lowestUnconfirmed]?.sentAt }

    /// Opens the socket (TLS when configured), logs in, opens channel 1 and selects confirms.
    init(configuration: AMQPConfiguration) throws(AMQPError) {
        field = configuration.field
        guard let connection = amqp_new_connection() else {
            throw AMQPError(.unreachable, field: field, detail: "rabbitmq-c could not allocate a connection")
        }
        self.connection = connection
        do {
            try open(configuration)
        } catch {
            amqp_connection_close(connection, AMQP_REPLY_SUCCESS)
            amqp_destroy_connection(connection)
            closed = true
            throw error
        }
    }

    deinit {
        if !closed { close() }
    }

    private func open(_ configuration: AMQPConfiguration) throws(AMQPError) {
        let target = configuration.redactedURL
        let socket: OpaquePointer?
        if let tls = configuration.tls {
            socket = amqp_ssl_socket_new(connection)
            guard let socket else { throw AMQPError(.unreachable, field: field, detail: "could not create a TLS socket for \(target)") }
            amqp_ssl_socket_set_verify_peer(socket, 1)
            amqp_ssl_socket_set_verify_hostname(socket, 1)
            if amqp_ssl_socket_set_cacert(socket, tls.caCertificateFile) != 0 {
                throw AMQPError(.unreachable, field: field, detail: "cannot read the CA certificates \(tls.caCertificateFile) (cacertfile)")
            }
            if let certificate = tls.certificateFile, let key = tls.keyFile, amqp_ssl_socket_set_key(socket, certificate, key) != 0 {
                throw AMQPError(.unreachable, field: field, detail: "cannot read the client certificate \(certificate) or key \(key)")
            }
        } else {
            socket = amqp_tcp_socket_new(connection)
            guard socket != nil else { throw AMQPError(.unreachable, field: field, detail: "could not create a socket for \(target)") }
        }
        let milliseconds =
            configuration.connectionTimeout.components.seconds * 1000
            + configuration.connectionTimeout.components.attoseconds / 1_000_000_000_000_000
        var timeout = timeval(tv_sec: Int(milliseconds / 1000), tv_usec: Int(milliseconds % 1000) * 1000)
        let status = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(
                .unreachable,
                field: field,
                detail: "RabbitMQ at \(target) is unreachable: \(String(cString: amqp_error_string2(status)))"
            )
        }
        let login = CRabbitMQLoginPlain(connection, configuration.vhost, Int32(configuration.heartbeat), configuration.user, configuration.password)
        if login.reply_type != AMQP_RESPONSE_NORMAL {
            let reason = describe(login)
            let code: AMQPError.Code = login.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION || reason.contains("refused") ? .loginRefused : .unreachable
            throw AMQPError(
                code,
                field: field,
                detail: "RabbitMQ at \(target) refused the login of user \(configuration.user) to vhost \(configuration.vhost): \(reason)"
            )
        }
        amqp_channel_open(connection, channel)
        try check("open channel 1")
        amqp_confirm_select(connection, channel)
        try check("select publisher confirms")
    }

    /// Throws the last RPC's failure, naming what was attempted.
    private func check(_ what: String) throws(AMQPError) {
        let reply = amqp_get_rpc_reply(connection)
        guard reply.reply_type != AMQP_RESPONSE_NORMAL else { return }
        let reason = describe(reply)
        let code: AMQPError.Code
        if reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION {
            code = reason.contains("PRECONDITION_FAILED") ? .topologyMismatch : .channelClosed
        } else {
            code = .connectionLost
        }
        throw AMQPError(code, field: field, detail: "\(what): \(reason)")
    }

    private func describe(_ reply: amqp_rpc_reply_t) -> String {
        switch reply.reply_type {
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return String(cString: amqp_error_string2(reply.library_error))
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == CRabbitMQChannelCloseMethod, let decoded = reply.reply.decoded {
                let close = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return "the broker closed the channel: \(close.reply_code) \(String(amqpBytes: close.reply_text))"
            }
            if reply.reply.id == CRabbitMQConnectionCloseMethod, let decoded = reply.reply.decoded {
                let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return "the broker closed the connection: \(close.reply_code) \(String(amqpBytes: close.reply_text))"
            }
            return "the broker answered method \(reply.reply.id)"
        default:
            return "no reply"
        }
    }

    // MARK: Topology

    func declareExchange(_ name: String, type: String) throws(AMQPError) {
        let arena = CArena()
        amqp_exchange_declare(connection, channel, arena.bytes(name), arena.bytes(type), 0, 1, 0, 0, amqp_table_t(num_entries: 0, entries: nil))
        try check("declare exchange \(name) (\(type), durable)")
    }

    /// Declares a queue and returns its name (the broker's for `name == ""`).
    @discardableResult
    func declareQueue(_ name: String, durable: Bool, exclusive: Bool, autoDelete: Bool, arguments: [AMQPHeader]) throws(AMQPError) -> String {
        let arena = CArena()
        let ok = amqp_queue_declare(
            connection,
            channel,
            arena.bytes(name),
            0,
            durable ? 1 : 0,
            exclusive ? 1 : 0,
            autoDelete ? 1 : 0,
            arena.table(arguments)
        )
        try check("declare queue \(name.isEmpty ? "(server-named)" : name) with \(arguments.map { "\($0.key)=\($0.value)" })")
        guard let ok else { return name }
        return String(amqpBytes: ok.pointee.queue)
    }

    func bindQueue(_ queue: String, exchange: String, routingKey: String) throws(AMQPError) {
        let arena = CArena()
        amqp_queue_bind(
            connection,
            channel,
            arena.bytes(queue),
            arena.bytes(exchange),
            arena.bytes(routingKey),
            amqp_table_t(num_entries: 0, entries: nil)
        )
        try check("bind queue \(queue) to \(exchange) with \(routingKey)")
    }

    /// Deletes a queue (and its messages); for tests and operators' tools.
    func deleteQueue(_ name: String) throws(AMQPError) {
        let arena = CArena()
        amqp_queue_delete(connection, channel, arena.bytes(name), 0, 0)
        try check("delete queue \(name)")
    }

    /// Deletes an exchange; for tests and operators' tools.
    func deleteExchange(_ name: String) throws(AMQPError) {
        let arena = CArena()
        amqp_exchange_delete(connection, channel, arena.bytes(name), 0)
        try check("delete exchange \(name)")
    }

    func qos(prefetch: Int) throws(AMQPError) {
        amqp_basic_qos(connection, channel, 0, UInt16(clamping: prefetch), 0)
        try check("set prefetch \(prefetch)")
    }

    func consume(queue: String, noAck: Bool) throws(AMQPError) {
        let arena = CArena()
        amqp_basic_consume(
            connection,
            channel,
            arena.bytes(queue),
            amqp_bytes_t(len: 0, bytes: nil),
            0,
            noAck ? 1 : 0,
            0,
            amqp_table_t(num_entries: 0, entries: nil)
        )
        try check("consume from queue \(queue)")
    }

    // MARK: Publishing

    /// Sends one persistent message; `confirmed` runs when the broker acks or nacks it (or the session fails).
    func publish(exchange: String, routingKey: String, message: AMQPMessage, mandatory: Bool, confirmed: @escaping Confirmation) throws(AMQPError) {
        let arena = CArena()
        var properties = amqp_basic_properties_t()
        properties._flags = CRabbitMQBasicDeliveryModeFlag
        properties.delivery_mode = 2
        if let contentType = message.contentType {
            properties._flags |= CRabbitMQBasicContentTypeFlag
            properties.content_type = arena.bytes(contentType)
        }
        if let messageID = message.messageID {
            properties._flags |= CRabbitMQBasicMessageIDFlag
            properties.message_id = arena.bytes(messageID)
        }
        if let type = message.type {
            properties._flags |= CRabbitMQBasicTypeFlag
            properties.type = arena.bytes(type)
        }
        if !message.headers.isEmpty {
            properties._flags |= CRabbitMQBasicHeadersFlag
            properties.headers = arena.table(message.headers)
        }
        let status = amqp_basic_publish(
            connection,
            channel,
            arena.bytes(exchange),
            arena.bytes(routingKey),
            mandatory ? 1 : 0,
            0,
            &properties,
            arena.bytes(message.body)
        )
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionLost, field: field, detail: "publishing failed: \(String(cString: amqp_error_string2(status)))")
        }
        let tag = nextPublishTag
        nextPublishTag += 1
        unconfirmed[tag] = (confirmed, .now)
        if mandatory, let messageID = message.messageID {
            mandatoryTags[messageID] = tag
            mandatoryIDs[tag] = messageID
        }
    }

    func ack(_ deliveryTag: UInt64) throws(AMQPError) {
        let status = amqp_basic_ack(connection, channel, deliveryTag, 0)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionLost, field: field, detail: "ack failed: \(String(cString: amqp_error_string2(status)))")
        }
    }

    func nack(_ deliveryTag: UInt64, requeue: Bool) throws(AMQPError) {
        let status = amqp_basic_nack(connection, channel, deliveryTag, 0, requeue ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionLost, field: field, detail: "nack failed: \(String(cString: amqp_error_string2(status)))")
        }
    }

    /// Takes one message from `queue` without a consumer (`basic.get`, auto-acknowledged); nil when it is empty.
    /// For operators' tools and tests (reading a dead-letter queue).
    func get(queue: String) throws(AMQPError) -> AMQPMessage? {
        let arena = CArena()
        let reply = amqp_basic_get(connection, channel, arena.bytes(queue), 1)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw AMQPError(.channelClosed, field: field, detail: "basic.get from \(queue): \(describe(reply))")
        }
        guard reply.reply.id == CRabbitMQBasicGetOkMethod else { return nil }
        return try readMessage(channel)
    }

    // MARK: Reading

    /// The socket to poll for readability.
    var socketDescriptor: Int32 { amqp_get_sockfd(connection) }

    /// Reads every frame available now (never waits): settles confirms, hands deliveries to `deliver`.
    /// Also sends heartbeats when due (rabbitmq-c does that inside its frame reads).
    func readAvailable(deliver: (Delivered) -> Void) throws(AMQPError) {
        var timeout = timeval(tv_sec: 0, tv_usec: 0)
        while true {
            var frame = amqp_frame_t()
            let status = amqp_simple_wait_frame_noblock(connection, &frame, &timeout)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(
                    .connectionLost,
                    field: field,
                    detail: "the connection to RabbitMQ failed: \(String(cString: amqp_error_string2(status)))"
                )
            }
            guard frame.frame_type == AMQP_FRAME_METHOD else { continue }
            let method = frame.payload.method
            switch method.id {
            case CRabbitMQBasicAckMethod:
                let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                settle(upTo: ack.delivery_tag, multiple: ack.multiple != 0, nacked: false)
            case CRabbitMQBasicNackMethod:
                let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                settle(upTo: nack.delivery_tag, multiple: nack.multiple != 0, nacked: true)
            case CRabbitMQBasicReturnMethod:
                let back = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
                let reason = "\(back.reply_code) \(String(amqpBytes: back.reply_text)) (routing key \(String(amqpBytes: back.routing_key)))"
                let message = try readMessage(frame.channel)
                if let messageID = message.messageID, let tag = mandatoryTags[messageID] { returned[tag] = reason }
            case CRabbitMQBasicDeliverMethod:
                let fields = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
                let delivered = Delivered(
                    deliveryTag: fields.delivery_tag,
                    redelivered: fields.redelivered != 0,
                    routingKey: String(amqpBytes: fields.routing_key),
                    message: try readMessage(frame.channel)
                )
                deliver(delivered)
            case CRabbitMQChannelCloseMethod:
                let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                throw AMQPError(
                    .channelClosed,
                    field: field,
                    detail: "the broker closed the channel: \(close.reply_code) \(String(amqpBytes: close.reply_text))"
                )
            case CRabbitMQConnectionCloseMethod:
                let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                throw AMQPError(
                    .connectionLost,
                    field: field,
                    detail: "the broker closed the connection: \(close.reply_code) \(String(amqpBytes: close.reply_text))"
                )
            case CRabbitMQBasicCancelMethod:
                throw AMQPError(.channelClosed, field: field, detail: "the broker cancelled the consumer (its queue was deleted?)")
            default:
                continue
            }
        }
        if !hasBufferedInput { amqp_maybe_release_buffers(connection) }
    }

    private var hasBufferedInput: Bool { amqp_frames_enqueued(connection) != 0 || amqp_data_in_buffer(connection) != 0 }

    private func readMessage(_ channel: amqp_channel_t) throws(AMQPError) -> AMQPMessage {
        var message = amqp_message_t()
        let reply = amqp_read_message(connection, channel, &message, 0)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw AMQPError(.connectionLost, field: field, detail: "reading a message failed: \(describe(reply))")
        }
        defer { amqp_destroy_message(&message) }
        return AMQPMessage(message)
    }

    private func settle(upTo tag: UInt64, multiple: Bool, nacked: Bool) {
        if multiple, tag < lowestUnconfirmed { return }  // everything up to `tag` is settled already
        let tags: ClosedRange<UInt64> = multiple ? lowestUnconfirmed...tag : tag...tag
        for current in tags {
            guard let confirmation = unconfirmed.removeValue(forKey: current)?.confirmation else { continue }
            if let messageID = mandatoryIDs.removeValue(forKey: current) { mandatoryTags[messageID] = nil }
            if nacked {
                confirmation(.failure(AMQPError(.nacked, field: field, detail: "the broker refused the message (basic.nack)")))
            } else if let reason = returned.removeValue(forKey: current) {
                confirmation(.failure(AMQPError(.unroutable, field: field, detail: "no queue is bound for the message: \(reason)")))
            } else {
                confirmation(.success(()))
            }
        }
        if multiple { lowestUnconfirmed = max(lowestUnconfirmed, tag + 1) }
        while lowestUnconfirmed < nextPublishTag, unconfirmed[lowestUnconfirmed] == nil { lowestUnconfirmed += 1 }
    }

    /// Fails every unconfirmed publish with `error` (the connection is going away).
    func failUnconfirmed(_ error: AMQPError) {
        let pending = unconfirmed.sorted { $0.key < $1.key }
        unconfirmed.removeAll()
        mandatoryTags.removeAll()
        mandatoryIDs.removeAll()
        returned.removeAll()
        for (_, entry) in pending { entry.confirmation(.failure(error)) }
    }

    /// Closes the channel and the connection (best effort) and frees rabbitmq-c's state.
    func close() {
        guard !closed else { return }
        closed = true
        failUnconfirmed(AMQPError(.connectionLost, field: field, detail: "the connection was closed before the broker confirmed"))
        amqp_channel_close(connection, channel, AMQP_REPLY_SUCCESS)
        amqp_connection_close(connection, AMQP_REPLY_SUCCESS)
        amqp_destroy_connection(connection)
    }

    /// Frees rabbitmq-c's state without the closing handshake (the socket is already dead).
    func abandon(_ error: AMQPError) {
        guard !closed else { return }
        closed = true
        failUnconfirmed(error)
        amqp_destroy_connection(connection)
    }
}
