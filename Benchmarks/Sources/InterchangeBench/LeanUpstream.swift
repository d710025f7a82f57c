import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An experiment, not a product: the leanest HTTP/1 upstream client SwiftNIO makes — kept-alive connections pooled
/// per event loop, a request written on the loop of the server connection that asked for it, the response (head and
/// body, buffered — small answers only) handed back as one future. `proxy-server --client lean` sets it against
/// AsyncHTTPClient in the same proxy, to measure what the client's machinery costs a gateway. No timeouts, retries,
/// request bodies or streaming: what a product client would add on top.
final class LeanUpstream: Sendable {
    private let host: String
    private let port: Int
    /// Idle connections by event loop; each list is only used on its loop (the lock guards the dictionary).
    private let idle = NIOLockedValueBox<[ObjectIdentifier: [Connection]]>([:])

    struct Connection: @unchecked Sendable {
        // Used only on `channel.eventLoop`.
        let channel: any Channel
        let collector: ResponseCollector
    }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    func execute(_ head: HTTPRequestHead, on loop: any EventLoop) -> EventLoopFuture<(HTTPResponseHead, ByteBuffer)> {
        loop.flatSubmit { [self] in
            let key = ObjectIdentifier(loop)
            if let connection = idle.withLockedValue({ $0[key]?.popLast() }), connection.channel.isActive {
                return send(head, on: connection, key: key)
            }
            let collector = ResponseCollector()
            return ClientBootstrap(group: loop)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: host, port: port)
                .flatMap { channel in self.send(head, on: Connection(channel: channel, collector: collector), key: key) }
        }
    }

    private func send(_ head: HTTPRequestHead, on connection: Connection, key: ObjectIdentifier) -> EventLoopFuture<(HTTPResponseHead, ByteBuffer)> {
        let promise = connection.channel.eventLoop.makePromise(of: (HTTPResponseHead, ByteBuffer).self)
        connection.collector.promise = promise
        connection.channel.write(HTTPClientRequestPart.head(head), promise: nil)
        connection.channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return promise.futureResult.map { [self] response in
            idle.withLockedValue { $0[key, default: []].append(connection) }
            return response
        }
    }
}

/// Collects one response at a time and completes its promise at the end.
final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    var promise: EventLoopPromise<(HTTPResponseHead, ByteBuffer)>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var part): body.writeBuffer(&part)
        case .end:
            guard let head, let promise else { return }
            self.promise = nil
            promise.succeed((head, body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.ioOnClosedChannel)
        promise = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise?.fail(error)
        promise = nil
        context.close(promise: nil)
    }
}
