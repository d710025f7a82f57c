import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// A bare Hummingbird `Router`: `GET /hello` (hello-world) and `GET /bytes`, the baseline for HTTP endpoints
/// served by Interchange. Given `--body-file`, `/bytes` answers exactly those bytes with `--content-type`
/// (the benchmark script saves the dashboard's own answer there, so the baseline sends the same body).
struct HelloServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hello-server", abstract: "Serve GET /hello on a loopback port until stopped.")

    @Option(help: "Port to listen on.") var port = 0
    @Option(help: "Also serve GET /bytes with a JSON body of this many bytes (to separate body size from per-request cost).")
    var bodyBytes = 1204
    @Option(help: "Serve GET /bytes with this file's bytes instead (e.g. a saved answer of the endpoint being compared).")
    var bodyFile: String?
    @Option(help: "The Content-Type of GET /bytes.") var contentType = "application/json; charset=utf-8"

    func run() async throws {
        var logger = Logger(label: "hello")
        logger.logLevel = .error
        let router = Router()
        router.get("/hello") { _, _ in "Hello, world!" }
        let json =
            try bodyFile.map { ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: $0))) }
            ?? ByteBuffer(string: "{\"padding\":\"" + String(repeating: "x", count: max(0, bodyBytes - 14)) + "\"}")
        let contentType = self.contentType
        router.get("/bytes") { _, _ in
            Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: json))
        }
        try await serveOnLoopback(router.buildResponder(), port: port, logger: logger)
    }
}

/// Serves `responder` on `127.0.0.1:port` until the process is stopped, printing `listening on <url>` once it listens
/// (unbuffered: the benchmark script waits for that line in a file).
func serveOnLoopback<Responder: HTTPResponder>(_ responder: Responder, port: Int, logger: Logger) async throws
where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    let app = Application(
        responder: responder,
        configuration: .init(address: .hostname("127.0.0.1", port: port)),
        onServerRunning: { channel in
            FileHandle.standardOutput.write(Data("listening on http://127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8))
        },
        logger: logger
    )
    try await app.runService()
}
