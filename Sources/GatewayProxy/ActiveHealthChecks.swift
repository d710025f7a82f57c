import AsyncHTTPClient
import Foundation
import Gateway
import Logging
import NIOCore
import Synchronization

/// Kong's active health checks for one service's targets: each target is probed (`GET http_path`) every
/// `healthy.interval` seconds while healthy and every `unhealthy.interval` while unhealthy (0: not probed in that
/// state); `unhealthy.http_failures` probes answering one of `unhealthy.http_statuses` in a row, `tcp_failures`
/// refused connections or `timeouts` probes over `timeout` make it unhealthy, `healthy.successes` probes answering
/// one of `healthy.http_statuses` in a row make it healthy again. Every target starts healthy. An unhealthy
/// target gets no traffic, whatever its breaker says.
final class ActiveHealthChecks: Sendable {
    enum Outcome: Equatable {
        case status(Int)
        case tcpFailure
        case timeout
    }

    private struct TargetState {
        var healthy = true
        var successes = 0
        var httpFailures = 0
        var tcpFailures = 0
        var timeouts = 0
    }

    let configuration: Healthchecks.Active
    private let states: Mutex<[TargetState]>

    /// Nil when the configuration probes neither healthy nor unhealthy targets.
    init?(_ configuration: Healthchecks.Active, targets: Int) {
        guard configuration.healthy.interval > 0 || configuration.unhealthy.interval > 0 else { return nil }
        self.configuration = configuration
        self.states = Mutex(Array(repeating: TargetState(), count: targets))
    }

    func isHealthy(_ target: Int) -> Bool { states.withLock { $0[target].healthy } }

    /// Counts one probe's outcome against `target`'s thresholds.
    func record(_ outcome: Outcome, target: Int) {
        let healthy = configuration.healthy
        let unhealthy = configuration.unhealthy
        states.withLock { states in
            var state = states[target]
            switch outcome {
            case .status(let code) where healthy.httpStatuses.contains(code):
                state.successes += 1
                (state.httpFailures, state.tcpFailures, state.timeouts) = (0, 0, 0)
                if !state.healthy, healthy.successes > 0, state.successes >= healthy.successes { state.healthy = true }
            case .status(let code) where unhealthy.httpStatuses.contains(code):
                state.successes = 0
                state.httpFailures += 1
                if unhealthy.httpFailures > 0, state.httpFailures >= unhealthy.httpFailures { state.healthy = false }
            case .status: break
            case .tcpFailure:
                state.successes = 0
                state.tcpFailures += 1
                if unhealthy.tcpFailures > 0, state.tcpFailures >= unhealthy.tcpFailures { state.healthy = false }
            case .timeout:
                state.successes = 0
                state.timeouts += 1
                if unhealthy.timeouts > 0, state.timeouts >= unhealthy.timeouts { state.healthy = false }
            }
            states[target] = state
        }
    }

    /// Probes until cancelled.
    func run(targets: [Target], scheme: Service.UpstreamScheme, hostHeader: String?, client: HTTPClient, logger: Logger) async {
        var due = Array(repeating: ContinuousClock.now, count: targets.count)
        while !Task.isCancelled {
            let now = ContinuousClock.now
            for index in targets.indices where due[index] <= now {
                let interval = isHealthy(index) ? configuration.healthy.interval : configuration.unhealthy.interval
                guard interval > 0 else {
                    // Not probed in this state; look again soon in case the state changes (passively it cannot).
                    due[index] = now + .milliseconds(100)
                    continue
                }
                let wasHealthy = isHealthy(index)
                record(await probe(targets[index], scheme: scheme, hostHeader: hostHeader, client: client), target: index)
                if wasHealthy != isHealthy(index) {
                    logger.warning(
                        "gateway: active health check changed a target's state",
                        metadata: ["target": "\(targets[index].address)", "healthy": "\(!wasHealthy)"]
                    )
                }
                due[index] = ContinuousClock.now + .milliseconds(Int64(interval * 1000))
            }
            guard let next = due.min() else { return }
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }

    private func probe(_ target: Target, scheme: Service.UpstreamScheme, hostHeader: String?, client: HTTPClient) async -> Outcome {
        var request = HTTPClientRequest(url: "\(scheme.rawValue)://\(target.address)\(configuration.httpPath)")
        request.headers.add(name: "Host", value: hostHeader ?? target.address)
        for (name, values) in configuration.headers { for value in values { request.headers.add(name: name, value: value) } }
        do {
            let timeout = TimeAmount.milliseconds(Int64(configuration.timeout * 1000))
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 1 << 20)
            return .status(Int(response.status.code))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .timeout
        } catch {
            return .tcpFailure
        }
    }
}
