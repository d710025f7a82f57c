import Foundation
import Gateway
import Hummingbird
import Logging
import Synchronization

/// The gateway a process serves: the current ``GatewayProxy``, swapped for a new one when its configuration is
/// reloaded. A request runs to its end — response body included — on the proxy it started on; a replaced proxy
/// closes its upstream connections once its last request is over. A configuration that fails to load or build
/// leaves the live one serving, and ``status`` says why.
///
/// ```swift
/// let live = LiveGateway(try await GatewayProxy(configuration: first, logger: logger), logger: logger)
/// let app = Application(router: live, configuration: configuration)
/// // on SIGHUP or a changed file:
/// await live.reload { try GatewayConfiguration.load(contentsOf: url) }
/// ```
public final class LiveGateway: HTTPResponderBuilder, Sendable {
    /// What the admin API reports about the configuration in force and the last attempt to replace it.
    public struct Status: Sendable, Codable, Equatable {
        public struct Attempt: Sendable, Codable, Equatable {
            public var at: Date
            /// `applied` or `rejected`.
            public var outcome: String
            /// Why a rejected configuration was rejected (every problem, with key paths and lines).
            public var error: String?
        }

        /// 1 for the configuration the process started with, one more for each applied reload.
        public var generation: Int
        public var loadedAt: Date
        public var lastReload: Attempt?
        /// Replaced proxies still finishing requests.
        public var draining: Int
    }

    /// One configuration's proxy and the requests still running on it.
    private final class Generation: Sendable {
        let proxy: GatewayProxy
        let number: Int
        let loadedAt: Date
        let active = Atomic<Int>(0)

        init(proxy: GatewayProxy, number: Int, loadedAt: Date) {
            self.proxy = proxy
            self.number = number
            self.loadedAt = loadedAt
        }
    }

    private struct State {
        var current: Generation
        var lastReload: Status.Attempt?
        var draining = 0
    }

    private let state: Mutex<State>
    private let build: @Sendable (GatewayConfiguration) async throws -> GatewayProxy
    private let drainLimit: Duration
    private let now: @Sendable () -> Date
    private let logger: Logger

    /// - Parameters:
    ///   - build: makes the proxy for a reloaded configuration (the same settings as the first, typically).
    ///   - drainLimit: how long a replaced proxy waits for its last requests before closing its connections anyway.
    public init(
        _ proxy: GatewayProxy,
        drainLimit: Duration = .seconds(600),
        now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger,
        build: @escaping @Sendable (GatewayConfiguration) async throws -> GatewayProxy
    ) {
        self.state = Mutex(State(current: Generation(proxy: proxy, number: 1, loadedAt: now())))
        self.build = build
        self.drainLimit = drainLimit
        self.now = now
        self.logger = logger
    }

    /// The proxy new requests go to.
    public var proxy: GatewayProxy { state.withLock { $0.current.proxy } }

    public var status: Status {
        state.withLock { state in
            Status(generation: state.current.number, loadedAt: state.current.loadedAt, lastReload: state.lastReload, draining: state.draining)
        }
    }

    /// Loads and builds a new configuration and, if both succeed, puts it in force; otherwise the live one stays
    /// and the error is kept in ``status``. Returns the generation now in force.
    @discardableResult
    public func reload(_ load: @Sendable () throws -> GatewayConfiguration) async -> Int {
        let proxy: GatewayProxy
        do {
            proxy = try await build(try load())
        } catch {
            let reason = String(describing: error)
            logger.error("gateway: configuration rejected; the live one stays in force", metadata: ["error": "\(reason)"])
            return state.withLock { state in
                state.lastReload = Status.Attempt(at: now(), outcome: "rejected", error: reason)
                return state.current.number
            }
        }
        let (retired, number) = state.withLock { state in
            let retired = state.current
            state.current = Generation(proxy: proxy, number: retired.number + 1, loadedAt: now())
            state.lastReload = Status.Attempt(at: now(), outcome: "applied", error: nil)
            state.draining += 1
            return (retired, state.current.number)
        }
        logger.info(
            "gateway: configuration reloaded",
            metadata: [
                "generation": "\(number)", "services": "\(proxy.configuration.services.count)",
                "routes": "\(proxy.configuration.routes.count)",
            ]
        )
        Task { await self.retire(retired) }
        return number
    }

    /// Closes `generation`'s upstream connections once its last request is over (or the drain limit has passed).
    private func retire(_ generation: Generation) async {
        let deadline = ContinuousClock.now + drainLimit
        while generation.active.load(ordering: .acquiring) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        do {
            try await generation.proxy.shutdown()
        } catch {
            logger.warning("gateway: closing a replaced configuration's connections failed", metadata: ["error": "\(error)"])
        }
        state.withLock { $0.draining -= 1 }
    }

    /// Closes the live proxy's upstream connections. Call it once the server has stopped.
    public func shutdown() async throws {
        try await proxy.shutdown()
    }

    public func buildResponder() -> CallbackResponder<GatewayRequestContext> {
        CallbackResponder { [self] request, context in try await self.respond(to: request, context: context) }
    }

    public func respond(to request: Request, context: GatewayRequestContext) async throws -> Response {
        let generation = state.withLock { state in
            state.current.active.add(1, ordering: .relaxed)
            return state.current
        }
        do {
            return try await generation.proxy.respond(to: request, context: context) {
                generation.active.subtract(1, ordering: .releasing)
            }
        } catch {
            generation.active.subtract(1, ordering: .releasing)
            throw error
        }
    }
}
