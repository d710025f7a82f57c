// swift-tools-version:6.1
import PackageDescription

// Benchmarks live in their own package so `swift test` in the root never builds them.
// Run them with `make bench` (see docs/benchmarks.md).
let package = Package(
    name: "interchange-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "interchange", path: ".."),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "InterchangeBench",
            dependencies: [
                .product(name: "HTTPIntegration", package: "interchange"),
                .product(name: "Resilience", package: "interchange"),
                .product(name: "WebhooksSigning", package: "interchange"),
                .product(name: "WebhooksInbound", package: "interchange"),
                .product(name: "WebhooksOutbound", package: "interchange"),
                .product(name: "Persistence", package: "interchange"),
                .product(name: "Idempotency", package: "interchange"),
                .product(name: "Shop", package: "interchange"),
                .product(name: "Gateway", package: "interchange"),
                .product(name: "StripeSimulator", package: "interchange"),
                .product(name: "Messaging", package: "interchange"),
                .product(name: "MessagingAMQP", package: "interchange"),
                .product(name: "InterchangeCore", package: "interchange"),
                .product(name: "InterchangeTesting", package: "interchange"),
                .product(name: "ServiceRuntime", package: "interchange"),
                .product(name: "FulfillmentEvents", package: "interchange"),
                .product(name: "FulfillmentUsers", package: "interchange"),
                .product(name: "FulfillmentInventory", package: "interchange"),
                .product(name: "FulfillmentPayments", package: "interchange"),
                .product(name: "FulfillmentOrders", package: "interchange"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        )
    ]
)
