// swift-tools-version:6.1
import PackageDescription

// Interchange: a toolkit for API integration and three reference systems built from it.
// Library targets have one responsibility each; apps depend on libraries; only the CLI wires everything.
// See docs/architecture.md for the map.

let package = Package(
    name: "interchange",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "interchange", targets: ["interchange"]),
        // Every module that appears in a public signature of a library below is a product of its own.
        .library(name: "InterchangeCore", targets: ["InterchangeCore"]),
        .library(name: "Resilience", targets: ["Resilience"]),
        .library(name: "HTTPIntegration", targets: ["HTTPIntegration"]),
        .library(name: "WebhooksSigning", targets: ["WebhooksSigning"]),
        .library(name: "WebhooksInbound", targets: ["WebhooksInbound"]),
        .library(name: "WebhooksOutbound", targets: ["WebhooksOutbound"]),
        .library(name: "Persistence", targets: ["Persistence"]),
        .library(name: "Idempotency", targets: ["Idempotency"]),
        .library(name: "ServiceRuntime", targets: ["ServiceRuntime"]),
        .library(name: "Observability", targets: ["Observability"]),
        .library(name: "InterchangeTesting", targets: ["InterchangeTesting"]),
        .library(name: "StripeSimulator", targets: ["StripeSimulator"]),
        .library(name: "Shop", targets: ["Shop"]),
        // Reference system 3's services, for embedding them (the benchmarks package runs all four in one process).
        .library(name: "FulfillmentEvents", targets: ["FulfillmentEvents"]),
        .library(name: "FulfillmentUsers", targets: ["FulfillmentUsers"]),
        .library(name: "FulfillmentInventory", targets: ["FulfillmentInventory"]),
        .library(name: "FulfillmentPayments", targets: ["FulfillmentPayments"]),
        .library(name: "FulfillmentOrders", targets: ["FulfillmentOrders"]),
        .library(name: "Messaging", targets: ["Messaging"]),
        .library(name: "MessagingAMQP", targets: ["MessagingAMQP"]),
        .library(name: "Sagas", targets: ["Sagas"]),
        .library(name: "Gateway", targets: ["Gateway"]),
        .library(name: "GatewayProxy", targets: ["GatewayProxy"]),
    ],
    dependencies: [
        // HTTP server and client
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Process, configuration, lifecycle
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", "5.0.1"..<"7.0.0"),
        // Contract-first APIs
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client.git", from: "1.5.0"),
        // Simulated third-party APIs
        .package(url: "https://github.com/GraphQLSwift/Graphiti.git", from: "3.1.0"),
        .package(url: "https://github.com/GraphQLSwift/GraphQL.git", from: "4.3.0"),
        // Security and persistence
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/async-kit.git", from: "1.22.0"),
        // Observability
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.1.3"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
    ],
    targets: [
        // MARK: Foundation pieces shared by every target
        .target(name: "InterchangeCore"),

        // MARK: Toolkit
        .target(
            name: "Resilience",
            dependencies: [
                "InterchangeCore",
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "HTTPIntegration",
            dependencies: [
                "InterchangeCore",
                "Resilience",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .target(
            name: "Observability",
            dependencies: [
                "InterchangeCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ]
        ),
        // What every HTTP service shares. Takes no part in bootstrapping: `Observability` is the executable's.
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "InterchangeCore",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .target(
            name: "Persistence",
            dependencies: [
                "InterchangeCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                // Its SQLiteData values; the C library it vendors (VaporCSQLite) is what DirectSQLiteConnection calls.
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "AsyncKit", package: "async-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Idempotency-Key handling for POST endpoints, Stripe's semantics, durable in the database.
        .target(
            name: "Idempotency",
            dependencies: [
                "InterchangeCore",
                "Persistence",
                "ServiceRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Webhooks, in three targets so that verifying a signature pulls in no database, server or HTTP client.
        .target(
            name: "WebhooksSigning",
            dependencies: [
                "InterchangeCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Sources/Webhooks/Signing"
        ),
        .target(
            name: "WebhooksInbound",
            dependencies: [
                "InterchangeCore",
                "WebhooksSigning",
                "Persistence",
                "Resilience",
                "ServiceRuntime",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Webhooks/Inbound"
        ),
        .target(
            name: "WebhooksOutbound",
            dependencies: [
                "InterchangeCore",
                "WebhooksSigning",
                "Resilience",
                "HTTPIntegration",
                "Persistence",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/Webhooks/Outbound"
        ),

        .target(
            name: "WebhooksAdmin",
            dependencies: [
                "InterchangeCore",
                "WebhooksSigning",
                "WebhooksOutbound",
                "Persistence",
                "ServiceRuntime",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // openapi.yaml is the generator's input and, as a resource, what /admin/webhooks/openapi.yaml serves.
            resources: [.copy("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "WebhooksAdminClient",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),

        // MARK: Messaging: CloudEvents, the event bus, outbox and inbox, the embedded transport; RabbitMQ apart
        .target(
            name: "Messaging",
            dependencies: [
                "InterchangeCore",
                "Resilience",
                "Persistence",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // rabbitmq-c (Debian's librabbitmq-dev): the AMQP 0-9-1 client library the RabbitMQ transport drives.
        .systemLibrary(
            name: "CRabbitMQ",
            path: "Sources/CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(
            name: "MessagingAMQP",
            dependencies: [
                "InterchangeCore",
                "Resilience",
                "Messaging",
                "CRabbitMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Sagas: steps with compensations, an explicit state machine, persisted beside the outbox
        .target(
            name: "Sagas",
            dependencies: [
                "InterchangeCore",
                "Resilience",
                "Persistence",
                "Messaging",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Gateway: Kong's declarative config (validated with key paths and lines), compiled router, plugin precedence
        .target(
            name: "Gateway",
            dependencies: [
                "InterchangeCore",
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // MARK: Gateway proxy: the data plane — routing, streaming forwarding, load balancing, a breaker per target
        .target(
            name: "GatewayProxy",
            dependencies: [
                "Gateway",
                "InterchangeCore",
                "Persistence",
                "Resilience",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            // openapi.yaml is the admin API's contract, served at /_gateway/openapi.yaml; admin.html its page.
            resources: [.copy("openapi.yaml"), .copy("admin.html")]
        ),

        // MARK: Reference system 3: fulfillment — the events contract and four services
        .target(
            name: "FulfillmentEvents",
            dependencies: ["InterchangeCore", "Messaging"],
            path: "Sources/Fulfillment/Events"
        ),
        .target(
            name: "FulfillmentUsers",
            dependencies: [
                "InterchangeCore", "FulfillmentEvents", "Messaging", "Persistence", "ServiceRuntime",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Fulfillment/Users",
            resources: [.copy("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "FulfillmentInventory",
            dependencies: [
                "InterchangeCore", "FulfillmentEvents", "Messaging", "Persistence", "Resilience", "ServiceRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Fulfillment/Inventory",
            resources: [.copy("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "FulfillmentPayments",
            dependencies: [
                "InterchangeCore", "FulfillmentEvents", "Messaging", "Persistence", "Resilience", "ServiceRuntime", "HTTPIntegration",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Fulfillment/Payments",
            resources: [.copy("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "FulfillmentOrders",
            dependencies: [
                "InterchangeCore", "FulfillmentEvents", "Messaging", "Sagas", "Persistence", "Resilience", "ServiceRuntime", "HTTPIntegration",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Fulfillment/Orders",
            resources: [.copy("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),

        // MARK: Simulators of third-party APIs (real paths, auth, wire formats, errors)
        .target(
            name: "Simulators",
            dependencies: [
                "InterchangeCore",
                "ServiceRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Graphiti", package: "Graphiti"),
                .product(name: "GraphQL", package: "GraphQL"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // A stateful Stripe simulator: Checkout sessions, payment intents, refunds, events, signed webhook delivery.
        .target(
            name: "StripeSimulator",
            dependencies: [
                "InterchangeCore",
                "ServiceRuntime",
                "Persistence",
                "WebhooksSigning",
                "WebhooksOutbound",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Reference systems
        .target(
            name: "WeatherDashboard",
            dependencies: [
                "InterchangeCore",
                "Resilience",
                "HTTPIntegration",
                "ServiceRuntime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // openapi.yaml is the generator's input and, as a resource, what /api/openapi.yaml serves.
            resources: [.copy("Resources/web"), .copy("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),

        // The shop: orders in a database, payment through Stripe Checkout, Stripe webhooks through the inbox.
        .target(
            name: "Shop",
            dependencies: [
                "InterchangeCore",
                "Resilience",
                "HTTPIntegration",
                "Persistence",
                "Idempotency",
                "WebhooksSigning",
                "WebhooksInbound",
                "ServiceRuntime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // openapi.yaml is the generator's input and, as a resource, what /shop/api/openapi.yaml serves.
            resources: [.copy("Resources/web"), .copy("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),

        // MARK: The CLI
        .target(
            name: "InterchangeCLI",
            dependencies: [
                "InterchangeCore",
                "FulfillmentEvents",
                "FulfillmentInventory",
                "FulfillmentOrders",
                "FulfillmentPayments",
                "FulfillmentUsers",
                "Gateway",
                "GatewayProxy",
                "Messaging",
                "MessagingAMQP",
                "Persistence",
                "Simulators",
                "StripeSimulator",
                "Shop",
                "WeatherDashboard",
                "WebhooksSigning",
                "WebhooksOutbound",
                "WebhooksAdmin",
                "WebhooksAdminClient",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                "Observability",
                "ServiceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "interchange",
            dependencies: ["InterchangeCLI"]
        ),

        // MARK: Test support (public: users test their own integrations with it)
        .target(
            name: "InterchangeTesting",
            dependencies: [
                "InterchangeCore",
                "Persistence",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Tests
        .testTarget(name: "InterchangeCoreTests", dependencies: ["InterchangeCore", "InterchangeTesting"]),
        .testTarget(
            name: "ResilienceTests",
            dependencies: ["Resilience", "InterchangeCore", "InterchangeTesting", .product(name: "MetricsTestKit", package: "swift-metrics")]
        ),
        .testTarget(
            name: "HTTPIntegrationTests",
            dependencies: [
                "HTTPIntegration",
                "InterchangeCore",
                "InterchangeTesting",
                "Observability",
                "Resilience",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "SimulatorsTests",
            dependencies: [
                "Simulators",
                "ServiceRuntime",
                "InterchangeTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "WeatherDashboardTests",
            dependencies: [
                "WeatherDashboard",
                "Simulators",
                "HTTPIntegration",
                "ServiceRuntime",
                "InterchangeTesting",
                "Resilience",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["Gateway", "InterchangeCore"]
        ),
        .testTarget(
            name: "GatewayProxyTests",
            dependencies: [
                "Gateway",
                "GatewayProxy",
                "InterchangeCore",
                "InterchangeTesting",
                "Persistence",
                "Resilience",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SagasTests",
            dependencies: [
                "Sagas", "Messaging", "InterchangeCore", "InterchangeTesting", "Persistence", "Resilience",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "FulfillmentTests",
            dependencies: [
                "FulfillmentEvents", "FulfillmentUsers", "FulfillmentInventory", "FulfillmentPayments", "FulfillmentOrders",
                "Sagas", "Messaging", "InterchangeCore", "InterchangeTesting", "Persistence", "Resilience", "ServiceRuntime",
                "StripeSimulator", "HTTPIntegration",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "MessagingTests",
            dependencies: [
                "Messaging",
                "Observability",
                "InterchangeCore",
                "InterchangeTesting",
                "Persistence",
                "Resilience",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "MessagingAMQPTests",
            dependencies: [
                "MessagingAMQP",
                "Messaging",
                "CRabbitMQ",
                "InterchangeCore",
                "InterchangeTesting",
                "Persistence",
                "Resilience",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "PersistenceTests",
            dependencies: [
                "Persistence", "InterchangeCore", "InterchangeTesting", .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "WebhooksTests",
            dependencies: [
                "InterchangeCore",
                "Resilience",
                "WebhooksSigning",
                "WebhooksInbound",
                "WebhooksOutbound",
                "WebhooksAdmin",
                "Persistence",
                "ServiceRuntime",
                "InterchangeTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "SQLKit", package: "sql-kit"),
            ]
        ),
        .testTarget(
            name: "IdempotencyTests",
            dependencies: [
                "Idempotency",
                "InterchangeCore",
                "InterchangeTesting",
                "Persistence",
                "ServiceRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
            ]
        ),
        .testTarget(
            name: "StripeSimulatorTests",
            dependencies: [
                "StripeSimulator",
                "InterchangeCore",
                "InterchangeTesting",
                "Persistence",
                "ServiceRuntime",
                "WebhooksSigning",
                "WebhooksOutbound",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ShopTests",
            dependencies: [
                "Shop",
                "StripeSimulator",
                "Idempotency",
                "InterchangeCore",
                "InterchangeTesting",
                "HTTPIntegration",
                "Persistence",
                "Resilience",
                "ServiceRuntime",
                "WebhooksSigning",
                "WebhooksInbound",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
            ]
        ),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: [
                "Observability",
                "InterchangeTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "ServiceRuntimeTests",
            dependencies: [
                "ServiceRuntime",
                "InterchangeCore",
                "InterchangeTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "InterchangeCLITests",
            dependencies: [
                "InterchangeCLI",
                "InterchangeCore",
                "interchange",
                "InterchangeTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)
