import AsyncHTTPClient
import NIOCore
import Tracing

extension HTTPClient.Configuration {
    /// The AsyncHTTPClient settings of every client Interchange creates, in one place:
    /// - a pool of `maxConnectionsPerHost` connections per host (AsyncHTTPClient's default of 8 queues requests
    ///   under load), idle ones kept for 60 s;
    /// - no connection-establishment retry: a refused connection reaches the retry policy, breaker and budget at
    ///   once, instead of AsyncHTTPClient silently retrying it until its connect timeout;
    /// - a connect timeout, redirects followed or not, and the tracer AsyncHTTPClient's own tracing uses.
    ///
    /// ```swift
    /// let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .interchange(followRedirects: false))
    /// ```
    public static func interchange(
        maxConnectionsPerHost: Int = 32,
        connectTimeout: TimeAmount = .seconds(10),
        followRedirects: Bool = true,
        tracer: (any Tracer)? = nil
    ) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnectionsPerHost)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: connectTimeout)
        if !followRedirects { configuration.redirectConfiguration = .disallow }
        configuration.tracing.tracer = tracer
        return configuration
    }
}
