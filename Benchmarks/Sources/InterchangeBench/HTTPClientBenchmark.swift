import ArgumentParser
import AsyncHTTPClient
import Foundation
import HTTPIntegration
import Metrics
import NIOCore
import Resilience

/// The resilient client's pipeline (retry + circuit breaker + rate limiter + timeouts + metrics, no faults)
/// against a raw AsyncHTTPClient request to the same server, interleaved in one run.
struct HTTPClientBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "http-client", abstract: "Pipeline vs raw AsyncHTTPClient throughput and latency.")

    @Option(help: "A loopback URL answering 200 quickly (nginx `return 200`).") var url: String
    @Option(help: "Concurrent requests in flight.") var concurrency = 16
    @Option(help: "Seconds per round.") var seconds = 5
    @Option(help: "Rounds per mode, interleaved.") var rounds = 3
    @Option(help: "Run only one client (raw or pipeline), e.g. under a profiler.") var only: String?
    @Option(help: "Pipeline policies: standard (retry, breaker, limiter, timeouts) or bare (none; the pipeline's fixed cost).")
    var policy = "standard"
    @Flag(help: "Both clients also read the response's Content-Type (the pipeline then converts its header fields).")
    var readHeaders = false

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        configuration.tracing.tracer = nil
        let ahc = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

        // What a user turns on for a third-party API: retries with budget, a breaker, a (generous) rate limit,
        // attempt and total timeouts, and metrics recorded through swift-metrics.
        var policy = HostPolicy.standard
        policy.rateLimit = RateLimitPolicy(algorithm: .tokenBucket(capacity: 1_000_000, refillPerSecond: 1_000_000))
        if self.policy == "bare" {
            policy = HostPolicy(retry: .disabled, circuitBreaker: nil, attemptTimeout: nil, totalTimeout: nil)
        }
        let pipeline = try ResilientHTTPClient(
            configuration: .init(name: "nginx", defaultPolicy: policy),
            httpClient: ahc,
            metricsFactory: BenchmarkMetrics(),
            tracer: nil
        )
        let target = url
        let readHeaders = self.readHeaders
        // The same request on the wire as the pipeline sends (its default User-Agent), so only the pipeline differs.
        let rawRequest = {
            var request = HTTPClientRequest(url: target)
            request.headers.add(name: "User-Agent", value: ResilientHTTPClient.Configuration().userAgent ?? "")
            return request
        }()
        let raw: @Sendable () async throws -> Void = {
            let response = try await ahc.execute(rawRequest, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw BenchmarkError.unexpectedStatus(Int(response.status.code)) }
            if readHeaders, response.headers.first(name: "content-type") == nil { throw BenchmarkError.missingContentType }
        }
        let resilient: @Sendable () async throws -> Void = {
            let response = try await pipeline.get(target)
            guard response.status == .ok else { throw BenchmarkError.unexpectedStatus(response.status.code) }
            if readHeaders, response.mediaType == nil { throw BenchmarkError.missingContentType }
        }

        if let only {
            let result = await runLoad(concurrency: concurrency, duration: .seconds(seconds), only == "raw" ? raw : resilient)
            print(
                String(
                    format: "%@: %.0f req/s, p50 %.3f ms, p99 %.3f ms",
                    only,
                    result.requestsPerSecond,
                    result.p50Milliseconds,
                    result.p99Milliseconds
                )
            )
            try await ahc.shutdown()
            return
        }

        // Warm up both paths (connections, caches, JIT-free but allocator-warm).
        _ = await runLoad(concurrency: concurrency, duration: .seconds(1), raw)
        _ = await runLoad(concurrency: concurrency, duration: .seconds(1), resilient)

        // Rounds alternate which client goes first, and each round pair gives its own ratio: on a noisy machine
        // the median of paired ratios is steadier than a ratio of medians taken minutes apart.
        var rawResults: [LoadResult] = []
        var pipelineResults: [LoadResult] = []
        var ratios: [Double] = []
        for round in 1...rounds {
            if round.isMultiple(of: 2) {
                pipelineResults.append(await runLoad(concurrency: concurrency, duration: .seconds(seconds), resilient))
                rawResults.append(await runLoad(concurrency: concurrency, duration: .seconds(seconds), raw))
            } else {
                rawResults.append(await runLoad(concurrency: concurrency, duration: .seconds(seconds), raw))
                pipelineResults.append(await runLoad(concurrency: concurrency, duration: .seconds(seconds), resilient))
            }
            ratios.append(pipelineResults.last!.requestsPerSecond / rawResults.last!.requestsPerSecond)
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "round %d: raw %.0f req/s, pipeline %.0f req/s, ratio %.3f\n",
                        round,
                        rawResults.last!.requestsPerSecond,
                        pipelineResults.last!.requestsPerSecond,
                        ratios.last!
                    ).utf8
                )
            )
        }
        try await ahc.shutdown()

        let rawRPS = median(rawResults.map(\.requestsPerSecond))
        let pipeRPS = median(pipelineResults.map(\.requestsPerSecond))
        let rawP50 = median(rawResults.map(\.p50Milliseconds))
        let pipeP50 = median(pipelineResults.map(\.p50Milliseconds))
        let rawP99 = median(rawResults.map(\.p99Milliseconds))
        let pipeP99 = median(pipelineResults.map(\.p99Milliseconds))
        let errors = (rawResults + pipelineResults).reduce(0) { $0 + $1.errors }
        print("| client | requests/s | p50 (ms) | p99 (ms) |")
        print("|---|---:|---:|---:|")
        print(String(format: "| raw AsyncHTTPClient | %.0f | %.3f | %.3f |", rawRPS, rawP50, rawP99))
        print(String(format: "| ResilientHTTPClient pipeline | %.0f | %.3f | %.3f |", pipeRPS, pipeP50, pipeP99))
        let p50Ratios = zip(pipelineResults, rawResults).map { $0.p50Milliseconds / $1.p50Milliseconds }
        print(
            String(
                format:
                    "\nthroughput ratio (pipeline/raw): %.3f, median of %d paired rounds (range %.3f–%.3f); p50 added: %+.1f%%; p99 added: %+.1f%% (%d s rounds, %d concurrent, %d errors)",
                median(ratios),
                rounds,
                ratios.min() ?? 0,
                ratios.max() ?? 0,
                (median(p50Ratios) - 1) * 100,
                (pipeP99 / rawP99 - 1) * 100,
                seconds,
                concurrency,
                errors
            )
        )
    }
}

enum BenchmarkError: Error {
    case unexpectedStatus(Int)
    case missingContentType
}
