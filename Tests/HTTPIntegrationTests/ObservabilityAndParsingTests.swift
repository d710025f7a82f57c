import Foundation
import HTTPIntegration
import HTTPTypes
import InterchangeTesting
import MetricsTestKit
import Observability
import Synchronization
import Testing
import Tracing

@Suite("Resilient HTTP client: metrics, tracing, header parsing", .timeLimit(.minutes(1)))
struct ObservabilityAndParsingTests {
    @Test("counts requests by host, method and outcome, and retries by host")
    func metrics() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/a", .status(503), .json("{}"))
            server.enqueue("/b", .status(404))
            let metrics = TestMetrics()
            try await withClient(policy: testPolicy(), metrics: metrics) { client in
                _ = try await client.get("\(server.baseURL)/a")
                _ = try await client.get("\(server.baseURL)/b")
                _ = try? await client.get("http://127.0.0.1:1/refused")
            }
            let requests = "interchange_http_client_requests_total"
            #expect(metrics.counterTotal(label: requests, dimensions: [("upstream", "127.0.0.1"), ("method", "GET"), ("outcome", "2xx")]) == 1)
            #expect(metrics.counterTotal(label: requests, dimensions: [("upstream", "127.0.0.1"), ("method", "GET"), ("outcome", "4xx")]) == 1)
            #expect(
                metrics.counterTotal(label: requests, dimensions: [("upstream", "127.0.0.1"), ("method", "GET"), ("outcome", "transport_failure")])
                    == 1
            )
            #expect(metrics.counterTotal(label: "interchange_http_client_retries_total", dimensions: [("upstream", "127.0.0.1")]) >= 1)
            let timer = try metrics.expectTimer("interchange_http_client_request_duration_seconds", [("upstream", "127.0.0.1"), ("outcome", "2xx")])
            #expect(timer.values.count == 1)
        }
    }

    @Test("two clients of one host:port, named for their upstreams, keep apart breakers, metrics and labels")
    func upstreamNames() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/weather", .status(200))
            server.enqueue("/graphql", .status(500))
            let metrics = TestMetrics()
            var policy = try testPolicy(maxAttempts: 1, breaker: .init(slidingWindow: .countBased(size: 1), minimumNumberOfCalls: 1))
            let weather = try ResilientHTTPClient(
                configuration: .init(name: "open-meteo", defaultPolicy: policy),
                metricsFactory: metrics,
                tracer: nil
            )
            policy.name = "github"  // a host policy's own name wins over the client's
            let github = try ResilientHTTPClient(configuration: .init(name: "unused", defaultPolicy: policy), metricsFactory: metrics, tracer: nil)
            _ = try await weather.get("\(server.baseURL)/weather")
            _ = try await github.get("\(server.baseURL)/graphql")
            let authority = "127.0.0.1:\(server.port)"
            #expect(weather.circuitBreaker(for: authority)?.name == "open-meteo")
            #expect(github.circuitBreaker(for: authority)?.name == "github")
            #expect(github.circuitBreaker(for: authority)?.state == .open)
            #expect(weather.circuitBreaker(for: authority)?.state == .closed)
            let requests = "interchange_http_client_requests_total"
            #expect(metrics.counterTotal(label: requests, dimensions: [("upstream", "open-meteo"), ("method", "GET"), ("outcome", "2xx")]) == 1)
            #expect(metrics.counterTotal(label: requests, dimensions: [("upstream", "github"), ("method", "GET"), ("outcome", "5xx")]) == 1)
            #expect(metrics.counterTotal(label: requests, dimensions: [("upstream", authority), ("method", "GET"), ("outcome", "2xx")]) == 0)
            try await weather.shutdown()
            try await github.shutdown()
        }
    }

    @Test("exposes the received header fields, repeated names combined, and lets the caller change them")
    func receivedHeaderFields() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue(
                "/headers",
                .init(
                    headers: [("Content-Type", "application/json"), ("X-Request-ID", "req-7"), ("Warning", "a"), ("Warning", "b")],
                    body: "{}"
                )
            )
            try await withClient(policy: testPolicy()) { client in
                var response = try await client.get("\(server.baseURL)/headers")
                #expect(response.mediaType == "application/json")  // read from the wire's fields, before any conversion
                let requestID = HTTPField.Name("x-request-id")!
                #expect(response.headerFields[requestID] == "req-7")
                #expect(response.headerFields[requestID] == "req-7")  // read again: the converted fields are kept
                #expect(response.headerFields[values: HTTPField.Name("warning")!] == ["a", "b"])
                #expect(response.headerFields[HTTPField.Name("warning")!] == "a, b")
                response.headerFields[requestID] = "changed"
                #expect(response.headerFields[requestID] == "changed")
                #expect(response.headerFields[.contentType] == "application/json")
            }
        }
    }

    @Test(
        "mediaType drops parameters, trims and lowercases",
        arguments: [
            ("application/json; charset=utf-8", "application/json"),
            (" Application/Problem+JSON ;x=1", "application/problem+json"),
            ("text/plain", "text/plain"),
            ("\ttext/HTML\t", "text/html"),
            (";charset=utf-8", ""),
        ]
    )
    func mediaType(contentType: String, expected: String) {
        let response = ClientResponse(
            status: .ok,
            headerFields: [.contentType: contentType],
            requestLine: RequestLine(method: .get, url: "https://example.com/")
        )
        #expect(response.mediaType == expected)
    }

    @Test("propagates W3C traceparent: every attempt carries the call's trace id")
    func traceparent() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/traced", .status(502), .json("{}"))
            let finished = Mutex<[FinishedSpan]>([])
            let tracer = W3CTracer { span in finished.withLock { $0.append(span) } }
            try await withClient(policy: testPolicy(), tracer: tracer) { client in
                _ = try await client.get("\(server.baseURL)/traced")
            }
            let traceparents = server.requests(to: "/traced").compactMap { $0.headers[HTTPField.Name("traceparent")!] }
            #expect(traceparents.count == 2)
            let callSpan = finished.withLock { $0 }.first { $0.operationName == "HTTP GET" && $0.parentSpanID == nil }
            #expect(callSpan != nil)
            for header in traceparents {
                let parts = header.split(separator: "-")
                #expect(parts.count == 4 && parts[0] == "00" && parts[1].count == 32 && parts[2].count == 16)
                #expect(String(parts[1]) == callSpan?.traceID)
            }
            #expect(traceparents[0] != traceparents[1])  // each attempt is its own span
            #expect(callSpan?.attributes["interchange.attempts"]?.toSpanAttribute() == .int64(2))
        }
    }

    @Test("Retry-After parses seconds and the three HTTP-date forms")
    func retryAfterParsing() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:47 GMT", now: now) == .seconds(10))
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:49:57 GMT", now: now) == .seconds(20))
        #expect(RetryAfter.parse("Sun Nov  6 08:50:07 1994", now: now) == .seconds(30))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == .zero)
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse("-5", now: now) == nil)
        #expect(HTTPDate.format(now) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test("URL redaction hides secret query parameters and user-info")
    func redaction() {
        let redacted = Redaction.standard.redact(url: "https://user:pw@api.example.com/x?q=London&appid=abc&API_KEY=def&page=2")
        #expect(redacted == "https://REDACTED@api.example.com/x?q=London&appid=REDACTED&API_KEY=REDACTED&page=2")
    }
}
