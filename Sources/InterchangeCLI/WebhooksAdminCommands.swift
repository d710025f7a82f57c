import ArgumentParser
import AsyncHTTPClient
import Foundation
import HTTPTypes
import InterchangeCore
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime
import WebhooksAdminClient

/// Where the admin API is and how to authenticate to it; shared by every admin subcommand.
struct AdminConnection: ParsableArguments {
    @Option(help: "The running Interchange. Env: INTERCHANGE_URL. Default: http://127.0.0.1:8080.")
    var url: String?

    @Option(help: "The admin token. Env: INTERCHANGE_ADMIN_TOKEN. Default: read from <data-dir>/admin-token.")
    var token: String?

    @Option(name: .customLong("data-dir"), help: "Where to find admin-token. Default: ./.interchange.")
    var dataDir: String?

    func client() throws -> Client {
        let environment = ProcessInfo.processInfo.environment
        let base = url ?? environment["INTERCHANGE_URL"] ?? "http://127.0.0.1:8080"
        let server: URL
        switch HTTPURL.check(base.hasSuffix("/") ? String(base.dropLast()) : base, rules: .baseURL) {
        case .success(let checked): server = checked.url
        case .failure(let problem): throw ValidationError("--url '\(base)' \(problem)")
        }
        let tokenPath = URL(fileURLWithPath: dataDir ?? environment["INTERCHANGE_DATA_DIR"] ?? "./.interchange").appendingPathComponent("admin-token")
            .path
        guard
            let token = token ?? environment["INTERCHANGE_ADMIN_TOKEN"]
                ?? (try? String(contentsOfFile: tokenPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        else {
            throw ValidationError("no admin token: pass --token, set INTERCHANGE_ADMIN_TOKEN, or run where \(tokenPath) exists")
        }
        return Client(
            serverURL: server.appendingPathComponent("admin/webhooks"),
            transport: AsyncHTTPClientTransport(),
            middlewares: [BearerTokenMiddleware(token: token)]
        )
    }
}

/// Adds `Authorization: Bearer` to each admin request.
struct BearerTokenMiddleware: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        baseURL: URL,
        operationID: String,
        next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}

/// Prints a value as pretty JSON, or a problem on standard error and exits 1.
enum AdminOutput {
    static func print(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func fail(status: Int, _ problem: Components.Schemas.Problem) throws -> Never {
        var message = "error \(status): \(problem.title)"
        if let detail = problem.detail { message += ": \(detail)" }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        throw ExitCode(1)
    }

    static func problem(_ response: Components.Responses.Problem) -> Components.Schemas.Problem {
        switch response.body {
        case .applicationProblemJson(let problem): problem
        }
    }

    /// Any answer but the success a command expects: one of the problems the admin API documents per status
    /// (400, 401, 404, 413, 415, 422, each a `Components.Responses.Problem`), or a status it does not document.
    static func fail(_ answer: some Sendable) throws -> Never {
        let payload = Mirror(reflecting: answer).children.first?.value
        if let response = payload as? Components.Responses.Problem {
            let problem = problem(response)
            try fail(status: problem.status, problem)
        }
        if let (status, _) = payload as? (statusCode: Int, UndocumentedPayload) {
            try fail(status: status, .init(title: "an answer the admin API does not document", status: status))
        }
        try fail(status: 0, .init(title: "an unexpected answer: \(answer)", status: 0))
    }
}

extension WebhooksCommand {
    struct Endpoints: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage webhook endpoints of a running Interchange.",
            subcommands: [List.self, Create.self, Update.self, Delete.self, RotateSecret.self, Test.self]
        )

        struct List: AsyncCommand {
            static let configuration = CommandConfiguration(abstract: "List endpoints.")
            @OptionGroup var connection: AdminConnection
            func execute() async throws {
                switch try await connection.client().listEndpoints() {
                case .ok(let ok): try AdminOutput.print(try ok.body.json.endpoints)
                case let answer: try AdminOutput.fail(answer)
                }
            }
        }

        struct Create: AsyncCommand {
            static let configuration = CommandConfiguration(abstract: "Register an endpoint; prints it with its secret.")
            @OptionGroup var connection: AdminConnection
            @Option(name: .customLong("endpoint-url"), help: "Where to deliver.") var endpointURL: String
            @Option(name: .customLong("event-type"), help: "An event type or prefix wildcard (order.*); repeat; none for all.")
            var eventTypes: [String] = []
            @Option(help: "How deliveries are signed.") var scheme: Components.Schemas.Scheme = .standard
            @Option(help: "A description.") var description: String?
            @Option(help: "A secret to use instead of a generated one.") var secret: String?
            @Option(name: .customLong("max-concurrency"), help: "Deliveries in flight at once to it.") var maxConcurrency: Int?

            func execute() async throws {
                let body = Components.Schemas.EndpointCreate(
                    url: endpointURL,
                    description: description,
                    eventTypes: eventTypes,
                    scheme: scheme,
                    secret: secret,
                    maxConcurrency: maxConcurrency
                )
                switch try await connection.client().createEndpoint(body: .json(body)) {
                case .created(let created): try AdminOutput.print(try created.body.json)
                case let answer: try AdminOutput.fail(answer)
                }
            }
        }

        struct Update: AsyncCommand {
            static let configuration = CommandConfiguration(abstract: "Change an endpoint.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The endpoint id (ep_…).") var id: String
            @Option(name: .customLong("endpoint-url")) var endpointURL: String?
            @Option(name: .customLong("event-type"), help: "Replaces the event types; repeat.") var eventTypes: [String] = []
            @Option var description: String?
            @Flag(inversion: .prefixedEnableDisable, help: "Enable or disable the endpoint.") var enable: Bool?
            @Option(name: .customLong("max-concurrency")) var maxConcurrency: Int?

            func execute() async throws {
                let body = Components.Schemas.EndpointUpdate(
                    url: endpointURL,
                    description: description,
                    eventTypes: eventTypes.isEmpty ? nil : eventTypes,
                    enabled: enable,
                    maxConcurrency: maxConcurrency
                )
                switch try await connection.client().updateEndpoint(path: .init(endpointId: id), body: .json(body)) {
                case .ok(let ok): try AdminOutput.print(try ok.body.json)
                case let answer: try AdminOutput.fail(answer)
                }
            }
        }

        struct Delete: AsyncCommand {
            static let configuration = CommandConfiguration(abstract: "Remove an endpoint.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The endpoint id (ep_…).") var id: String
            func execute() async throws {
                switch try await connection.client().deleteEndpoint(path: .init(endpointId: id)) {
                case .noContent: print("deleted \(id)")
                case let answer: try AdminOutput.fail(answer)
                }
            }
        }

        struct RotateSecret: AsyncCommand {
            static let configuration = CommandConfiguration(
                commandName: "rotate-secret",
                abstract: "Give an endpoint a new secret; the old one keeps signing during the overlap."
            )
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The endpoint id (ep_…).") var id: String
            @Option(help: "Seconds the old secret keeps signing (default 86400).") var overlap: Int?
            @Option(help: "The new secret (default: generated).") var secret: String?
            func execute() async throws {
                let body = Operations.RotateSecret.Input.Body.JsonPayload(secret: secret, overlapSeconds: overlap)
                switch try await connection.client().rotateSecret(path: .init(endpointId: id), body: .json(body)) {
                case .ok(let ok): try AdminOutput.print(try ok.body.json)
                case let answer: try AdminOutput.fail(answer)
                }
            }
        }

        struct Test: AsyncCommand {
            static let configuration = CommandConfiguration(abstract: "Send a webhook.test event to an endpoint.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The endpoint id (ep_…).") var id: String
            func execute() async throws {
                switch try await connection.client().sendTestEvent(path: .init(endpointId: id)) {
                case .accepted(let accepted): try AdminOutput.print(try accepted.body.json)
                case let answer: try AdminOutput.fail(answer)
                }
            }
        }
    }

    struct Publish: AsyncCommand {
        static let configuration = CommandConfiguration(abstract: "Publish an event to every subscribed endpoint.")
        @OptionGroup var connection: AdminConnection
        @Option(name: .customLong("event-type")) var eventType: String
        @Option(help: "The JSON object to send; '-' reads standard input.") var payload: String
        @Option(help: "A message id, so a retried publish delivers once.") var id: String?

        func execute() async throws {
            let text = payload == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : payload
            let object: OpenAPIObjectContainer
            do {
                object = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(text.utf8))
            } catch {
                throw ValidationError("--payload must be a JSON object")
            }
            let body = Operations.PublishMessage.Input.Body.JsonPayload(id: id, eventType: eventType, payload: .init(additionalProperties: object))
            switch try await connection.client().publishMessage(body: .json(body)) {
            case .accepted(let accepted): try AdminOutput.print(try accepted.body.json)
            case let answer: try AdminOutput.fail(answer)
            }
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect and replay deliveries.",
            subcommands: [List.self, Show.self, Replay.self]
        )

        struct List: AsyncCommand {
            static let configuration = CommandConfiguration(abstract: "List deliveries, newest first.")
            @OptionGroup var connection: AdminConnection
            @Option(help: "Only to this endpoint.") var endpoint: String?
            @Option(help: "Only deliveries in this state.") var status: Components.Schemas.DeliveryStatus?
            @Option(help: "At most this many (1-200).") var limit: Int = 50
            func execute() async throws {
                switch try await connection.client().listDeliveries(query: .init(endpointId: endpoint, status: status, limit: limit)) {
                case .ok(let ok): try AdminOutput.print(try ok.body.json)
                case let answer: try AdminOutput.fail(answer)
                }
            }
        }

        struct Show: AsyncCommand {
            static let configuration = CommandConfiguration(abstract: "Show a delivery and its attempt log.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The delivery id (dlv_…).") var id: String
            func execute() async throws {
                switch try await connection.client().getDelivery(path: .init(deliveryId: id)) {
                case .ok(let ok): try AdminOutput.print(try ok.body.json)
                case let answer: try AdminOutput.fail(answer)
                }
            }
        }

        struct Replay: AsyncCommand {
            static let configuration = CommandConfiguration(abstract: "Make a failed delivery due again.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The delivery id (dlv_…).") var id: String
            func execute() async throws {
                switch try await connection.client().replayDelivery(path: .init(deliveryId: id)) {
                case .accepted(let accepted): try AdminOutput.print(try accepted.body.json)
                case let answer: try AdminOutput.fail(answer)
                }
            }
        }
    }

    struct Replay: AsyncCommand {
        static let configuration = CommandConfiguration(abstract: "Replay every delivery to an endpoint that failed since a time.")
        @OptionGroup var connection: AdminConnection
        @Option(help: "The endpoint id (ep_…).") var endpoint: String
        @Option(help: "An ISO 8601 time, e.g. 2026-11-25T08:00:00Z.") var since: String
        func execute() async throws {
            guard let date = ISO8601DateFormatter().date(from: since) else { throw ValidationError("--since must be an ISO 8601 time") }
            switch try await connection.client().replayFailed(path: .init(endpointId: endpoint), body: .json(.init(since: date))) {
            case .ok(let ok): try AdminOutput.print(try ok.body.json)
            case let answer: try AdminOutput.fail(answer)
            }
        }
    }
}

// Typed options: `--help` lists the values, and a wrong one is refused by name before any request.
extension Components.Schemas.Scheme: ExpressibleByArgument {}
extension Components.Schemas.DeliveryStatus: ExpressibleByArgument {}
