import AsyncHTTPClient
import Foundation
import InterchangeCLI
import InterchangeTesting
import NIOCore
import Testing

/// Runs the real `interchange` executable, as a user would.
@Suite("interchange executable", .serialized, .timeLimit(.minutes(3)))
struct ProcessTests {
    /// The built `interchange` binary, next to the test bundle.
    static var binary: URL {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundleDirectory, bundleDirectory.deletingLastPathComponent()].map { $0.appendingPathComponent("interchange") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// A running `interchange` process and the URL it printed.
    final class RunningProcess: @unchecked Sendable {
        // @unchecked: `process` is only touched from the test's task; the pipe is read on one thread.
        let process = Process()
        let output = Pipe()
        /// Standard error, when the test reads it (a pipe, so not a terminal: logs default to JSON lines).
        let errors: Pipe?
        var url = ""

        init(_ arguments: [String], environment: [String: String] = [:], capturingErrors: Bool = false) throws {
            process.executableURL = ProcessTests.binary
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            process.standardOutput = output
            errors = capturingErrors ? Pipe() : nil
            process.standardError = errors ?? FileHandle.nullDevice
            try process.run()
        }

        /// A test that fails before ``terminate(timeout:)`` must not leave a server running.
        deinit {
            if process.isRunning { process.terminate() }
        }

        /// Waits (up to `timeout`) for the "listening on" line: the server is ready once it is printed.
        func waitUntilListening(timeout: TimeInterval = 30) throws {
            var buffer = ""
            // The read blocks until output arrives; the watchdog kills a silent process, which ends the read at EOF.
            try ProcessTests.withWatchdog(on: process, timeout: timeout, waitingFor: "a listening address") {
                while true {
                    let data = output.fileHandleForReading.availableData
                    if data.isEmpty { break }
                    buffer += String(decoding: data, as: UTF8.self)
                    if let range = buffer.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression) {
                        url = String(buffer[range])
                        return
                    }
                }
            }
            guard url.isEmpty else { return }
            throw ProcessError(message: "interchange exited without reporting a listening address; output: \(buffer)")
        }

        /// Sends SIGTERM and returns the exit status, failing if shutdown takes longer than `timeout`.
        func terminate(timeout: TimeInterval = 10) throws -> Int32 {
            process.terminate()
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            guard !process.isRunning else {
                kill(process.processIdentifier, SIGKILL)
                throw ProcessError(message: "interchange did not stop within \(timeout) s of SIGTERM")
            }
            return process.terminationStatus
        }
    }

    /// Runs `body`, which blocks on `process` (reading its output, waiting for it to exit), and kills the process
    /// if `body` has not returned after `timeout`, so a process that hangs fails the test instead of hanging it.
    static func withWatchdog<T>(
        on process: Process,
        timeout: TimeInterval,
        waitingFor what: String,
        _ body: () throws -> T
    ) throws -> T {
        let pid = process.processIdentifier
        let watch = LockedValue((finished: false, killed: false))
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            watch.withLock { state in
                guard !state.finished else { return }
                state.killed = true
                kill(pid, SIGKILL)
            }
        }
        let result = Result { try body() }
        let killed = watch.withLock { state in
            state.finished = true
            return state.killed
        }
        if killed {
            throw ProcessError(message: "interchange \(process.arguments ?? []) gave no \(what) within \(Int(timeout)) s and was killed")
        }
        return try result.get()
    }

    struct ProcessError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    func get(_ url: String) async throws -> (status: Int, contentType: String?, body: String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.first(name: "content-type"), String(buffer: body))
    }

    @Test("up serves the dashboard at /, the landing page, /health and /metrics, answers unknown routes with problem+json, and stops on SIGTERM")
    func upLifecycle() async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-\(UUID().uuidString)").path
        // A micro-cache long enough that the second /api/weather is a replay however loaded the machine is.
        let running = try RunningProcess(
            ["up", "--port", "0", "--data-dir", dataDirectory],
            environment: ["INTERCHANGE_WEATHER_MICRO_CACHE_SECONDS": "60"]
        )
        try running.waitUntilListening()
        let health = try await get("\(running.url)/health")
        #expect(health.status == 200)
        #expect(health.body.contains(#""status":"up""#))
        let dashboard = try await get("\(running.url)/")
        #expect(dashboard.status == 200 && dashboard.contentType?.hasPrefix("text/html") == true)
        #expect(dashboard.body.contains("Weather &amp; repository dashboard"))
        let landing = try await get("\(running.url)/interchange")
        #expect(landing.status == 200 && landing.contentType?.hasPrefix("text/html") == true)
        #expect(landing.body.contains("<h1>Interchange</h1>"))
        // The dashboard's API through the simulators; the second answer is a micro-cache replay, still counted.
        let weather = try await get("\(running.url)/api/weather?city=Berlin")
        #expect(weather.status == 200 && weather.body.contains(#""name":"Berlin""#))
        let replay = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(running.url)/api/weather?city=Berlin"), timeout: .seconds(10))
        #expect(replay.status == .ok && replay.headers.first(name: "age") != nil)
        #expect(String(buffer: try await replay.body.collect(upTo: 1 << 20)) == weather.body)
        let repository = try await get("\(running.url)/api/repos/apple/swift")
        #expect(repository.status == 200)
        let metrics = try await get("\(running.url)/metrics")
        // All three upstreams are simulated on this one host and port, yet each has its own breaker and label.
        for upstream in ["open-meteo", "open-meteo-geocoding", "github"] {
            #expect(metrics.body.contains(#"interchange_circuit_breaker_state{name="\#(upstream)"}"#), "a breaker named \(upstream)")
            #expect(metrics.body.contains(#"upstream="\#(upstream)""#), "client metrics labelled \(upstream)")
        }
        #expect(!metrics.body.contains(#"name="127.0.0.1:"#), "no breaker is named by host and port")
        #expect(
            metrics.body.split(separator: "\n").contains { line in
                line.hasPrefix("hb_requests{") && line.contains(#"http_route="/api/weather""#) && line.hasSuffix(" 2")
            },
            "both /api/weather requests are counted"
        )
        #expect(metrics.status == 200)
        #expect(metrics.contentType?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.body.contains("# TYPE"))
        let missing = try await get("\(running.url)/no/such/page")
        #expect(missing.status == 404)
        #expect(missing.contentType == "application/problem+json")
        #expect(missing.body.contains(#""detail":"no route for GET \/no\/such\/page""#) || missing.body.contains("no route for GET /no/such/page"))
        #expect(FileManager.default.fileExists(atPath: dataDirectory))
        #expect(try running.terminate() == 0)
    }

    @Test("logs are one JSON object per line when standard error is not a terminal, with level, component and message")
    func jsonLogs() throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-\(UUID().uuidString)").path
        let running = try RunningProcess(["serve", "github-sim", "--port", "0", "--data-dir", dataDirectory], capturingErrors: true)
        try running.waitUntilListening()
        #expect(try running.terminate() == 0)
        let text = String(decoding: try #require(running.errors).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(!lines.isEmpty)
        var messages: [String] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            #expect(object["level"] is String && object["timestamp"] is String && object["component"] is String)
            messages.append(object["message"] as? String ?? "")
        }
        #expect(messages.contains("Interchange stopped"))
    }

    @Test("--version prints the version; --log-format text is accepted, and a typed option refuses a value it does not list")
    func versionAndTypedOptions() throws {
        let version = try run(["--version"])
        #expect(version.status == 0)
        #expect(version.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0.7.0")
        let badFormat = try run(["serve", "github-sim", "--log-format", "xml"])
        #expect(badFormat.status != 0)
        #expect(badFormat.errors.contains("json") && badFormat.errors.contains("text"), "the error lists the values")
        let badStatus = try run(["webhooks", "deliveries", "list", "--status", "lost", "--url", "http://127.0.0.1:9", "--token", "x"])
        #expect(badStatus.status != 0)
        #expect(badStatus.errors.contains("pending") && badStatus.errors.contains("succeeded") && badStatus.errors.contains("failed"))
        let help = try run(["webhooks", "endpoints", "create", "--help"])
        #expect(help.output.contains("standard") && help.output.contains("stripe"), "help lists the schemes")
    }

    /// Runs `interchange` with `arguments` to completion (killed, failing the test, after `timeout`); returns exit
    /// status, standard output and standard error. `environment` adds to the test's own unless `inheriting` is false.
    func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        inheriting: Bool = true,
        timeout: TimeInterval = 60
    ) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = inheriting ? ProcessInfo.processInfo.environment.merging(environment) { _, new in new } : environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let (out, err) = try Self.withWatchdog(on: process, timeout: timeout, waitingFor: "exit") {
            let out = output.fileHandleForReading.readDataToEndOfFile()
            let err = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (out, err)
        }
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test("the webhooks admin CLI manages endpoints and publishes through a running interchange")
    func webhooksAdminCLI() async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-\(UUID().uuidString)").path
        let running = try RunningProcess(
            ["up", "--port", "0", "--data-dir", dataDirectory],
            environment: ["INTERCHANGE_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true"]
        )
        try running.waitUntilListening()
        let connection = ["--url", running.url, "--data-dir", dataDirectory]
        let created = try run(
            ["webhooks", "endpoints", "create", "--endpoint-url", "\(running.url)/nowhere", "--event-type", "order.*"] + connection
        )
        #expect(created.status == 0, "\(created.errors)")
        #expect(created.output.contains(#""secret" : "whsec_"#))
        let listed = try run(["webhooks", "endpoints", "list"] + connection)
        #expect(listed.output.contains("\(running.url)/nowhere"))
        let published = try run(["webhooks", "publish", "--event-type", "order.created", "--payload", #"{"orderId":"o_1"}"#] + connection)
        #expect(published.status == 0)
        #expect(published.output.contains("dlv_"))
        let refused = try run(["webhooks", "endpoints", "create", "--endpoint-url", "ftp://example.com"] + connection)
        #expect(refused.status == 1)
        // ftp:// breaks the document's pattern for url: a 400 naming the field (422 is for what the document allows).
        #expect(refused.errors.contains("error 400") && refused.errors.contains("url:"))
        let unauthorized = try run(["webhooks", "endpoints", "list", "--url", running.url, "--token", "wrong"])
        #expect(unauthorized.status == 1)
        #expect(unauthorized.errors.contains("error 401"))
        #expect(try running.terminate() == 0)
    }

    @Test("a bad setting stops start-up with a message naming the field and its source")
    func badSettingExits() throws {
        // A regression that ignored the bad port would start serving: the run's time limit turns that into a failure.
        let result = try run(["up"], environment: ["INTERCHANGE_PORT": "eighty"], inheriting: false, timeout: 30)
        #expect(result.status != 0)
        #expect(result.errors.contains("port (from environment variable INTERCHANGE_PORT): 'eighty' is not a whole number"))
    }

    @Test("serve rejects an unknown component, listing the known ones")
    func unknownComponent() throws {
        let result = try run(["serve", "nonsense"], timeout: 30)
        #expect(result.status != 0)
        #expect(result.errors.contains("unknown component 'nonsense'"))
        let known = ComponentCatalog.entries.map(\.name)
        #expect(known.count >= 2)
        #expect(result.errors.contains("available: \(known.joined(separator: ", "))"), "every known component is listed")
    }
}
