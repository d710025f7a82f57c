import Hummingbird
import NIOCore

/// The request context of the gateway's server: what the proxy needs of the connection besides the request — the
/// client's address (for `X-Forwarded-For`, `Forwarded` and hashing on the IP) and the gateway's own port.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public let localPort: Int?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        localPort = source.channel.localAddress?.port
    }
}
