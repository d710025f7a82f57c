import Foundation
import Histogram
import Synchronization

/// What the gateway has served since it started, for the admin API and page: requests per route, consumer and
/// status, and each route's latency percentiles (HdrHistogram, 3 significant digits, from the request's arrival to
/// the end of its response body). It outlives reloads: a route keeps its figures under its name.
public final class GatewayAnalytics: Sendable {
    /// The label of requests no route matched.
    public static let noRoute = "(no route)"

    public struct Snapshot: Codable, Sendable, Equatable {
        public struct Latency: Codable, Sendable, Equatable {
            public var p50: Double
            public var p90: Double
            public var p99: Double
            public var max: Double
        }

        public struct RouteFigures: Codable, Sendable, Equatable {
            public var route: String
            public var service: String?
            public var requests: Int
            /// Requests per response status, keyed by the status code.
            public var statuses: [String: Int]
            /// Milliseconds.
            public var latencyMs: Latency
        }

        public struct ConsumerFigures: Codable, Sendable, Equatable {
            public var consumer: String
            public var requests: Int
            public var statuses: [String: Int]
        }

        public var since: Date
        public var requests: Int
        public var routes: [RouteFigures]
        public var consumers: [ConsumerFigures]
    }

    private struct RouteState {
        var service: String?
        var statuses: [Int: Int] = [:]
        /// Microseconds.
        var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    private struct State {
        var requests = 0
        var routes: [String: RouteState] = [:]
        var consumers: [String: [Int: Int]] = [:]
    }

    private let state = Mutex(State())
    private let since: Date

    public init(since: Date = Date()) { self.since = since }

    /// Counts one request that ended with `status` after `latency`.
    public func record(route: String, service: String?, consumer: String?, status: Int, latency: Duration) {
        let micros = UInt64(max(0, latency.components.seconds)) * 1_000_000 + UInt64(max(0, latency.components.attoseconds) / 1_000_000_000_000)
        state.withLock { state in
            state.requests += 1
            state.routes[route, default: RouteState(service: service)].statuses[status, default: 0] += 1
            _ = state.routes[route]?.latency.record(min(micros, 3_600_000_000))
            if let consumer { state.consumers[consumer, default: [:]][status, default: 0] += 1 }
        }
    }

    public var snapshot: Snapshot {
        state.withLock { state in
            func statuses(_ counts: [Int: Int]) -> [String: Int] { Dictionary(uniqueKeysWithValues: counts.map { (String($0.key), $0.value) }) }
            func ms(_ micros: UInt64) -> Double { Double(micros) / 1000 }
            let routes = state.routes.sorted { $0.key < $1.key }.map { name, route in
                Snapshot.RouteFigures(
                    route: name,
                    service: route.service,
                    requests: route.statuses.values.reduce(0, +),
                    statuses: statuses(route.statuses),
                    latencyMs: Snapshot.Latency(
                        p50: ms(route.latency.valueAtPercentile(50)),
                        p90: ms(route.latency.valueAtPercentile(90)),
                        p99: ms(route.latency.valueAtPercentile(99)),
                        max: ms(route.latency.max)
                    )
                )
            }
            let consumers = state.consumers.sorted { $0.key < $1.key }.map { name, counts in
                Snapshot.ConsumerFigures(consumer: name, requests: counts.values.reduce(0, +), statuses: statuses(counts))
            }
            return Snapshot(since: since, requests: state.requests, routes: routes, consumers: consumers)
        }
    }
}
