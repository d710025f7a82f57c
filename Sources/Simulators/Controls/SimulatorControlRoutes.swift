import Foundation
import Hummingbird
import InterchangeCore
import ServiceRuntime

/// `GET/PUT <base>/_sim/control` and `POST <base>/_sim/reset`: the controls over HTTP, so resilience can be
/// shown live with curl.
///
/// ```
/// curl -X PUT localhost:8080/sim/openweathermap/_sim/control -d '{"outage":true}' -H 'content-type: application/json'
/// curl -X POST localhost:8080/sim/openweathermap/_sim/reset
/// ```
enum SimulatorControlRoutes {
    /// The JSON body of every control response.
    struct Snapshot: Codable, Sendable, Equatable {
        var simulator: String
        var latencyMs: Double
        var errorRate: Double
        var outage: Bool
        var rateLimited: Bool
        var totalRequests: Int
        var requests: [String: Int]
    }

    static let controlKeys = ["latencyMs", "errorRate", "outage", "rateLimited"]

    /// Adds the control routes under `basePath`; `onReset` also clears simulator state (GitHub's rate budgets).
    static func add(
        to router: Router<BasicRequestContext>,
        basePath: String,
        simulator: String,
        controls: SimulatorControls,
        onReset: @escaping @Sendable () -> Void = {}
    ) {
        let group = router.group(RouterPath(basePath))
        group.get("_sim/control") { _, _ in
            try response(simulator: simulator, controls: controls)
        }
        group.put("_sim/control") { request, _ in
            let changes = try await request.decodeJSON([String: JSONValue].self)
            try apply(changes, to: controls)
            return try response(simulator: simulator, controls: controls)
        }
        group.post("_sim/reset") { _, _ in
            controls.reset()
            onReset()
            return try response(simulator: simulator, controls: controls)
        }
    }

    /// Applies a partial update; any unknown key or wrong type is a `400` naming the field, and nothing changes.
    static func apply(_ changes: [String: JSONValue], to controls: SimulatorControls) throws {
        var settings = controls.settings
        for (key, value) in changes.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "latencyMs":
                guard let milliseconds = value.doubleValue, milliseconds >= 0, milliseconds <= 600_000 else {
                    throw ProblemError.invalidBody("must be a number of milliseconds between 0 and 600000", field: key)
                }
                settings.latency = .milliseconds(milliseconds)
            case "errorRate":
                guard let rate = value.doubleValue, rate >= 0, rate <= 1 else {
                    throw ProblemError.invalidBody("must be a number between 0 and 1", field: key)
                }
                settings.errorRate = rate
            case "outage", "rateLimited":
                guard case .bool(let flag) = value else { throw ProblemError.invalidBody("must be true or false", field: key) }
                if key == "outage" { settings.outage = flag } else { settings.rateLimited = flag }
            default:
                throw ProblemError.invalidBody("unknown control; expected one of \(controlKeys.joined(separator: ", "))", field: key)
            }
        }
        controls.settings = settings
    }

    static func snapshot(simulator: String, controls: SimulatorControls) -> Snapshot {
        let settings = controls.settings
        return Snapshot(
            simulator: simulator,
            latencyMs: settings.latency.inMilliseconds,
            errorRate: settings.errorRate,
            outage: settings.outage,
            rateLimited: settings.rateLimited,
            totalRequests: controls.totalRequests,
            requests: controls.requestCounts
        )
    }

    private static func response(simulator: String, controls: SimulatorControls) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(snapshot(simulator: simulator, controls: controls))
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
