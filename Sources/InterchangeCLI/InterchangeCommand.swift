import ArgumentParser
import Foundation
import InterchangeCore
import Logging
import Observability

/// `interchange`: run the whole system, one component, or a tool.
public struct InterchangeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "interchange",
        abstract: "API integration toolkit and reference systems.",
        discussion: """
            Settings come from flags, then INTERCHANGE_* environment variables, then the --config file (YAML or JSON), \
            then defaults. See docs/configuration.md.
            """,
        version: InterchangeVersion.current,
        subcommands: [Up.self, Serve.self, WebhooksCommand.self, EventsCommand.self, StripeSimulatorCommand.self]
    )

    public init() {}

    /// Parses the command line and runs the chosen subcommand.
    ///
    /// Dispatches through ``AsyncCommand`` rather than `AsyncParsableCommand.run()`: with Swift 6.3, calling
    /// `run()` on an `any AsyncParsableCommand` resolves to ParsableCommand's synchronous `run()`, which only
    /// prints help.
    public static func runMain(_ arguments: [String]? = nil) async {
        do {
            var command = try await asyncParseAsRoot(arguments)
            if let asyncCommand = command as? any AsyncCommand {
                try await asyncCommand.execute()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// A subcommand whose work is asynchronous.
protocol AsyncCommand: AsyncParsableCommand {
    func execute() async throws
}

extension AsyncCommand {
    func run() async throws { try await execute() }
}

/// Options shared by `up` and `serve`.
struct ServerOptions: ParsableArguments {
    @Option(help: "Port to listen on (0 picks a free one). Env: INTERCHANGE_PORT. Default: 8080.")
    var port: Int?

    @Option(help: "Address to bind. Env: INTERCHANGE_HOST. Default: 127.0.0.1.")
    var host: String?

    @Option(name: .customLong("data-dir"), help: "Directory for databases and state. Env: INTERCHANGE_DATA_DIR. Default: ./.interchange.")
    var dataDir: String?

    @Option(name: .customLong("config"), help: "YAML or JSON settings file. Env: INTERCHANGE_CONFIG.")
    var configFile: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical. Env: INTERCHANGE_LOG_LEVEL.")
    var logLevel: String?

    @Option(
        name: .customLong("log-format"),
        help: "One JSON object per line, or text. Env: INTERCHANGE_LOG_FORMAT. Default: json unless standard error is a terminal."
    )
    var logFormat: LogFormat?

    @Option(
        help: """
            The database of the component: sqlite:<path> or postgres://…. Under `up`, the shop's; under `serve <name>`, that \
            component's (env INTERCHANGE_<NAME>_DATABASE_URL). Default: sqlite:<data dir>/<name>.sqlite.
            """
    )
    var database: String?

    @Option(
        help:
            "RabbitMQ for the components' events, amqp://… or amqps://…. Env: INTERCHANGE_BROKER_URL. Default: the embedded store in the data directory."
    )
    var broker: String?

    @Option(
        name: .customLong("admin-port"),
        help: "serve gateway only: the read-only admin API's port, on loopback (0 picks a free one). Default: 8001, as Kong's."
    )
    var adminPort: Int?

    /// Resolves the settings, or exits with a message naming the bad field.
    func settings(databaseOf component: String = "shop", environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
        var flags: [String: (value: String, flag: String)] = [:]
        if let port { flags["port"] = ("\(port)", "--port") }
        if let host { flags["host"] = (host, "--host") }
        if let dataDir { flags["dataDir"] = (dataDir, "--data-dir") }
        if let logLevel { flags["logLevel"] = (logLevel, "--log-level") }
        if let logFormat { flags["logFormat"] = (logFormat.rawValue, "--log-format") }
        if let database { flags["\(component).database"] = (database, "--database") }
        if let broker { flags["messaging.broker"] = (broker, "--broker") }
        do {
            let sources = try ConfigurationSources(
                flags: flags,
                environment: environment,
                configFile: configFile ?? environment["INTERCHANGE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            )
            let settings = try Settings(sources: sources)
            try settings.prepareDataDirectory()
            return settings
        } catch let error as ConfigurationError {
            throw ValidationError("configuration error: \(error)")
        }
    }
}

extension ParsableCommand {
    /// Bootstraps logging, metrics and tracing once for a server command.
    static func bootstrapObservability(_ settings: Settings) -> (ObservabilityBootstrap, Logger) {
        let observability = ObservabilityBootstrap.bootstrap(logLevel: settings.logLevel, logFormat: settings.logFormat)
        var logger = Logger(label: "interchange")
        logger.logLevel = settings.logLevel
        return (observability, logger)
    }
}

/// `interchange up`: the whole system in one process, on one port.
struct Up: AsyncCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole system on one port: the reference systems, their simulators, /health and /metrics."
    )

    @OptionGroup var options: ServerOptions

    @Option(
        name: .customLong("gateway-port"),
        help: "The API gateway in front of the fulfillment services (0 picks a free one). Default: 8000, as Kong's; 0 with --port 0."
    )
    var gatewayPort: Int?

    func validate() throws {
        if let gatewayPort, !(0...65535).contains(gatewayPort) {
            throw ValidationError("--gateway-port: expected 0…65535, got \(gatewayPort)")
        }
    }

    func execute() async throws {
        let settings = try options.settings()
        let (observability, logger) = Self.bootstrapObservability(settings)
        let entries = ComponentCatalog.entries.filter { $0.includedInUp(settings) }
        logger.info("starting Interchange", metadata: ["components": "\(entries.map(\.name).joined(separator: ","))"])
        // The gateway fronts the fulfillment services, when they run.
        let fronted = entries.contains { $0.name == "orders" }
        let gateway = fronted ? (gatewayPort ?? (settings.port == 0 ? 0 : 8000)) : nil
        try await ServerRunner(settings: settings, observability: observability, logger: logger)
            .run(entries: entries, landingPage: true, gatewayPort: gateway)
    }
}

/// `interchange serve <component>`: one component alone.
struct Serve: AsyncCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one component alone (to scale it out, or to run a simulator by itself).",
        discussion: """
            Components: \(ComponentCatalog.entries.map { "\($0.name) (\($0.summary))" }.joined(separator: "; ")); \
            gateway (the API gateway: --config names its Kong declarative file, kong.yaml; docs/gateway.md)
            """
    )

    @Argument(help: "The component to run.")
    var component: String

    @OptionGroup var options: ServerOptions

    /// Not a component on the shared router: it owns every path on its port.
    static let gateway = "gateway"

    func validate() throws {
        if component == Self.gateway {
            guard options.configFile != nil else {
                throw ValidationError("serve gateway needs --config <kong.yaml>: the gateway's declarative configuration (Kong's format)")
            }
            return
        }
        guard ComponentCatalog.entry(named: component) != nil else {
            let names = ComponentCatalog.entries.map(\.name)
            throw ValidationError("unknown component '\(component)'; available: \(names.isEmpty ? "none yet" : names.joined(separator: ", "))")
        }
    }

    func execute() async throws {
        if component == Self.gateway, let declarativeFile = options.configFile {
            var options = options
            options.configFile = nil  // --config is the gateway's Kong file; the rest comes from flags and environment
            let settings = try options.settings(databaseOf: component)
            let (_, logger) = Self.bootstrapObservability(settings)
            do {
                guard (0...65535).contains(options.adminPort ?? 0) else {
                    throw ValidationError("--admin-port: expected 0…65535, got \(options.adminPort ?? 0)")
                }
                let runner = GatewayRunner(declarativeFile: declarativeFile, settings: settings, adminPort: options.adminPort ?? 8001, logger: logger)
                try await runner.run()
            } catch let rejected as GatewayConfigurationRejected {
                FileHandle.standardError.write(Data("\(rejected)\n".utf8))
                throw ExitCode.validationFailure
            }
            return
        }
        let settings = try options.settings(databaseOf: component)
        let (observability, logger) = Self.bootstrapObservability(settings)
        guard let entry = ComponentCatalog.entry(named: component) else { throw ExitCode.validationFailure }
        try await ServerRunner(settings: settings, observability: observability, logger: logger).run(entries: [entry], landingPage: false)
    }
}

extension LogFormat: ExpressibleByArgument {}

/// The version `interchange --version` prints.
public enum InterchangeVersion {
    public static let current = "0.7.0"
}
