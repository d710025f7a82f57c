import ArgumentParser
import NIOCore
import NIOPosix

struct InterchangeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interchange-bench",
        abstract: "Interchange benchmarks; results and commands in docs/benchmarks.md.",
        subcommands: [
            HTTPClientBenchmark.self, PolicyBenchmark.self, WebhooksBenchmark.self, IdempotencyBenchmark.self, ShopIngestBenchmark.self,
            ShopCheckoutBenchmark.self, MessagingBenchmark.self, FulfillmentBenchmark.self,
            GatewayRouterBenchmark.self,
            HelloServer.self, ProxyServer.self,
        ]
    )
}

// `--nio-executor` anywhere on the command line runs Swift concurrency on SwiftNIO's event loops (fewer thread hops).
if CommandLine.arguments.contains("--nio-executor") {
    _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}

// See InterchangeCommand.runMain for why subcommands are dispatched by hand.
do {
    var command = try await InterchangeBench.asyncParseAsRoot(CommandLine.arguments.dropFirst().filter { $0 != "--nio-executor" })
    switch command {
    case let http as HTTPClientBenchmark: try await http.run()
    case let policies as PolicyBenchmark: try await policies.run()
    case let webhooks as WebhooksBenchmark: try await webhooks.run()
    case let idempotency as IdempotencyBenchmark: try await idempotency.run()
    case let ingest as ShopIngestBenchmark: try await ingest.run()
    case let checkout as ShopCheckoutBenchmark: try await checkout.run()
    case let messaging as MessagingBenchmark: try await messaging.run()
    case let fulfillment as FulfillmentBenchmark: try await fulfillment.run()
    case let router as GatewayRouterBenchmark: try await router.run()
    case let hello as HelloServer: try await hello.run()
    case let proxy as ProxyServer: try await proxy.run()
    default: try command.run()
    }
} catch {
    InterchangeBench.exit(withError: error)
}
