import AsyncHTTPClient
import Foundation
import HTTPIntegration
import NIOCore
import NIOPosix
import Synchronization

extension SSRFGuard {
    /// An HTTP `CONNECT` proxy on 127.0.0.1 that closes the DNS-rebinding window: for each tunnel it resolves the
    /// target once, judges every address with the guard, and connects to an address it judged.
    ///
    /// AsyncHTTPClient 1.37 has no resolver hook (``HTTPClient/Configuration/dnsResolver`` picks between the system
    /// resolver and a shuffled one) and its `dnsOverride` is fixed when the client is made, so the client cannot be
    /// told per request which checked address to connect to. Given a proxy, though, it tunnels every connection —
    /// `http` and `https` alike — through `CONNECT host:port`, and runs TLS end to end inside the tunnel: SNI and
    /// certificate verification still use the URL's host name, and the `Host` header is the URL's. So the delivery
    /// client goes through this proxy, and the proxy is where the address is checked and pinned.
    ///
    /// Only the client holding ``proxy`` (its random credentials) may use it; it listens on loopback only.
    final class ConnectProxy: Sendable {
        /// Configuration for the delivery client: this proxy, with its credentials.
        let proxy: HTTPClient.Configuration.Proxy
        /// The loopback port it listens on.
        var port: Int { proxy.port }
        private let channel: any Channel
        private let refusals: Refusals

        /// Starts listening on a random loopback port (a short blocking call: do not call it on an event loop).
        static func start(
            guard ssrfGuard: SSRFGuard,
            connectTimeout: Duration,
            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
        ) throws -> ConnectProxy {
            let password = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined()
            let authorization = HTTPClient.Authorization.basic(username: "interchange", password: password)
            let refusals = Refusals()
            let expected = authorization.headerValue
            let timeout = TimeAmount(connectTimeout)
            let channel = try ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ConnectHandler(ssrfGuard: ssrfGuard, expectedAuthorization: expected, refusals: refusals, connectTimeout: timeout)
                        )
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .wait()
            guard let port = channel.localAddress?.port else {
                channel.close(promise: nil)
                throw ChannelError.unknownLocalAddress
            }
            return ConnectProxy(
                proxy: .server(host: "127.0.0.1", port: port, authorization: authorization),
                channel: channel,
                refusals: refusals
            )
        }

        private init(proxy: HTTPClient.Configuration.Proxy, channel: any Channel, refusals: Refusals) {
            self.proxy = proxy
            self.channel = channel
            self.refusals = refusals
        }

        /// What the guard found when `error` (a request to `url` failing) is this proxy refusing the tunnel. The client
        /// only learns that the proxy said no (`HTTPClientError.invalidProxyResponse`); this says why.
        func refusal(for url: URL, behind error: any Error) -> SSRFViolation? {
            let cause = (error as? HTTPIntegrationError)?.underlyingError ?? error
            guard let clientError = cause as? HTTPClientError, clientError == .invalidProxyResponse, let host = url.host else { return nil }
            let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
            return refusals.refusal(for: Refusals.key(host: host, port: port))
        }

        /// Stops accepting tunnels; open ones end when the client closes its connections.
        func shutdown() async throws {
            try await channel.close()
        }

        /// Stops accepting tunnels without waiting (for a start-up that fails half-way).
        func closeNow() {
            channel.close(promise: nil)
        }
    }
}

/// The guard's refusals by `host:port`, for the engine to name them; bounded, newest wins.
private final class Refusals: Sendable {
    private let byTarget = Mutex<[String: SSRFViolation]>([:])

    static func key(host: String, port: Int) -> String { "\(SSRFGuard.normalized(host)):\(port)" }

    func record(_ violation: SSRFViolation?, for key: String) {
        byTarget.withLock { refusals in
            guard let violation else {
                refusals.removeValue(forKey: key)
                return
            }
            if refusals.count >= 1024 { refusals.removeAll() }
            refusals[key] = violation
        }
    }

    func refusal(for key: String) -> SSRFViolation? {
        byTarget.withLock { $0[key] }
    }
}

/// Serves one client connection: reads its `CONNECT` head, has the guard resolve and judge the target, connects to
/// a judged address, answers `200`, then splices the two connections.
private final class ConnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case readingHead(ByteBuffer)
        case connecting(pending: ByteBuffer)
        case finished
    }

    private var state = State.readingHead(ByteBuffer())
    private let ssrfGuard: SSRFGuard
    private let expectedAuthorization: String
    private let refusals: Refusals
    private let connectTimeout: TimeAmount
    private static let maxHeadSize = 8 * 1024

    init(ssrfGuard: SSRFGuard, expectedAuthorization: String, refusals: Refusals, connectTimeout: TimeAmount) {
        self.ssrfGuard = ssrfGuard
        self.expectedAuthorization = expectedAuthorization
        self.refusals = refusals
        self.connectTimeout = connectTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        // A client that never finishes its head does not hold the connection open.
        context.eventLoop.assumeIsolated().scheduleTask(in: connectTimeout) { [self] in
            if case .readingHead = state { close(context) }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .finished
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch state {
        case .readingHead(var head):
            head.writeBuffer(&bytes)
            guard let end = head.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else {
                if head.readableBytes > Self.maxHeadSize {
                    respond(context, status: "431 Request Header Fields Too Large")
                } else {
                    state = .readingHead(head)
                }
                return
            }
            let headLength = end.upperBound - head.readableBytesView.startIndex
            let text = head.readString(length: headLength) ?? ""
            startTunnel(context, head: text, pending: head)
        case .connecting(var pending):
            pending.writeBuffer(&bytes)  // the client spoke before our answer; it goes through once connected
            state = .connecting(pending: pending)
        case .finished:
            break
        }
    }

    private func startTunnel(_ context: ChannelHandlerContext, head: String, pending: ByteBuffer) {
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: true)
        let requestLine = lines.first?.split(separator: " ") ?? []
        guard requestLine.count == 3, requestLine[0] == "CONNECT", let (host, port) = Self.authority(requestLine[1]) else {
            respond(context, status: "405 Method Not Allowed")
            return
        }
        let authorization = lines.dropFirst().first { $0.lowercased().hasPrefix("proxy-authorization:") }
            .map { $0.dropFirst("proxy-authorization:".count).trimmingCharacters(in: .whitespaces) }
        guard authorization == expectedAuthorization else {
            respond(context, status: "407 Proxy Authentication Required")
            return
        }
        state = .connecting(pending: pending)
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        let loop = context.eventLoop
        let key = Refusals.key(host: host, port: port)
        let (ssrfGuard, timeout) = (self.ssrfGuard, connectTimeout)
        loop.makeFutureWithTask { try await ssrfGuard.addressesToConnect(host: host) }
            .flatMap { addresses in Self.connect(to: addresses[...], port: port, on: loop, timeout: timeout) }
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let peer):
                    refusals.record(nil, for: key)
                    splice(context, with: peer)
                case .failure(let violation as SSRFViolation):
                    refusals.record(violation, for: key)
                    respond(context, status: "403 Forbidden")
                case .failure:
                    refusals.record(nil, for: key)  // unreachable, not refused: no older refusal may stand for it
                    respond(context, status: "502 Bad Gateway")
                }
            }
    }

    /// Tries each judged address in turn, as a client library would.
    private static func connect(
        to addresses: ArraySlice<SSRFGuard.Address>,
        port: Int,
        on loop: any EventLoop,
        timeout: TimeAmount
    ) -> EventLoopFuture<any Channel> {
        guard let address = addresses.first else { return loop.makeFailedFuture(ChannelError.connectTimeout(timeout)) }
        let target: SocketAddress
        do {
            target = try address.socketAddress(port: port)
        } catch {
            return loop.makeFailedFuture(error)
        }
        return ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.autoRead, value: false)  // nothing flows until both sides are spliced
            .connect(to: target)
            .flatMapError { error in
                addresses.count > 1 ? connect(to: addresses.dropFirst(), port: port, on: loop, timeout: timeout) : loop.makeFailedFuture(error)
            }
    }

    private func splice(_ context: ChannelHandlerContext, with peer: any Channel) {
        guard case .connecting(let pending) = state else {
            peer.close(promise: nil)  // the client went away meanwhile
            return
        }
        state = .finished
        let (clientSide, peerSide) = GlueHandler.matchedPair()
        do {
            try context.pipeline.syncOperations.addHandler(clientSide)
            try peer.pipeline.syncOperations.addHandler(peerSide)
        } catch {
            peer.close(promise: nil)
            close(context)
            return
        }
        var answer = context.channel.allocator.buffer(capacity: 48)
        answer.writeString("HTTP/1.1 200 Connection Established\r\n\r\n")
        context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
        if pending.readableBytes > 0 { peer.writeAndFlush(pending, promise: nil) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        peer.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
    }

    private func respond(_ context: ChannelHandlerContext, status: String) {
        state = .finished
        var answer = context.channel.allocator.buffer(capacity: 96)
        answer.writeString("HTTP/1.1 \(status)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        context.writeAndFlush(wrapOutboundOut(answer)).assumeIsolated().whenComplete { [self] _ in close(context) }
    }

    private func close(_ context: ChannelHandlerContext) {
        state = .finished
        context.close(promise: nil)
    }

    /// `host:port`, `[v6]:port` or `v6:port` (as AsyncHTTPClient writes an IPv6 target).
    static func authority(_ text: Substring) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            return nil
        }
        let host = SSRFGuard.normalized(String(text[..<colon]))
        return host.isEmpty ? nil : (host, port)
    }
}

/// Splices two channels on one event loop: what one reads, the other writes, with back-pressure both ways.
/// (The pattern of swift-nio-examples' connect-proxy.)
private final class GlueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.context?.write(data, promise: nil) }
    func channelReadComplete(context: ChannelHandlerContext) { partner?.context?.flush() }
    func channelInactive(context: ChannelHandlerContext) { partner?.context?.close(promise: nil) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { partner?.context?.close(promise: nil) }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let partner, partner.pendingRead {
            partner.pendingRead = false
            partner.context?.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if partner?.context?.channel.isWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
