import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Cuts off clients that hold a connection without sending: a first request head not complete within `head` of the
/// connection being accepted is answered 408 and the connection closed — a slow-loris client dripping header bytes
/// is stopped however steadily it drips; a kept-alive connection whose next head is not complete within `idle` of
/// the previous response is closed; a request body that the gateway asked for more of and did not get within `body`
/// closes the connection, as does a body still unfinished `body` after its response was sent. The body deadline runs
/// only while the gateway is reading: a body held back by backpressure (a slow upstream) is not the client's fault.
/// A response the gateway marks `Connection: close` (a 413 for a body over the limit) closes the connection once it
/// is written, instead of leaving Hummingbird to read — for an endless body, forever — the rest of the request.
///
/// It sits after Hummingbird's HTTP decoding (`HTTP1Channel.Configuration(additionalChannelHandlers:)`): one per
/// connection.
final class RequestDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase {
        /// Waiting for a request head.
        case head
        /// Reading a request body.
        case body
        /// The request has been read; its response is being written.
        case responding
    }

    private let head: TimeAmount
    private let body: TimeAmount
    private let idle: TimeAmount
    private var phase = Phase.head
    private var timer: Scheduled<Void>?
    /// The response being written says `Connection: close`.
    private var closesAfterResponse = false

    init(head: Duration, body: Duration, idle: Duration) {
        self.head = TimeAmount(head)
        self.body = TimeAmount(body)
        self.idle = TimeAmount(idle)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, head, onExpiry: Self.headTimedOut) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, head, onExpiry: Self.headTimedOut)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            disarm()
            phase = .body
        case .body:
            disarm()
        case .end:
            disarm()
            phase = .responding
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        // The gateway wants more of the body: the client has `body` to send some.
        if phase == .body, timer == nil { arm(context, body, onExpiry: Self.bodyTimedOut) }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            closesAfterResponse = response.headerFields[.connection]?.lowercased().contains("close") == true
        case .body:
            break
        case .end where closesAfterResponse:
            // The response asked for the connection to close: once it is written, before anything more is read.
            disarm()
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in context.close(promise: nil) }
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            return
        case .end:
            switch phase {
            case .responding:
                // Response sent: the connection is kept alive for the next request's head, `idle` at most.
                phase = .head
                arm(context, idle, onExpiry: Self.idleTimedOut)
            case .body:
                // Answered before the body ended (nobody reads the rest): the client has `body` to finish it.
                if timer == nil { arm(context, body, onExpiry: Self.bodyTimedOut) }
            case .head:
                break
            }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount, onExpiry: @escaping (RequestDeadlines, ChannelHandlerContext) -> Void) {
        disarm()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            handler.timer = nil
            onExpiry(handler, context)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    private static func headTimedOut(_ handler: RequestDeadlines, _ context: ChannelHandlerContext) {
        guard handler.phase == .head else { return }
        let response = HTTPResponse(status: .requestTimeout, headerFields: [.connection: "close", .contentLength: "0"])
        context.write(handler.wrapOutboundOut(.head(response)), promise: nil)
        context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    private static func idleTimedOut(_ handler: RequestDeadlines, _ context: ChannelHandlerContext) {
        // No 408 here: a client may be sending its next request as this closes, and would read the 408 as its answer.
        if handler.phase == .head { context.close(promise: nil) }
    }

    private static func bodyTimedOut(_ handler: RequestDeadlines, _ context: ChannelHandlerContext) {
        guard handler.phase == .body else { return }
        context.close(promise: nil)
    }
}

extension GatewayProxy {
    /// The HTTP/1.1 server for the gateway's port: Hummingbird's, with ``RequestDeadlines`` on every connection
    /// (the keep-alive timeout is Kong's `keepalive_timeout`, 60 s).
    public static func server(
        requestHeadTimeout: Duration = .seconds(10),
        requestBodyTimeout: Duration = .seconds(60),
        keepAliveTimeout: Duration = .seconds(60)
    ) -> HTTPServerBuilder {
        .http1(
            configuration: .init(
                additionalChannelHandlers: [RequestDeadlines(head: requestHeadTimeout, body: requestBodyTimeout, idle: keepAliveTimeout)]
            )
        )
    }
}
