/// A policy that wraps an operation: retry, circuit breaker, rate limiter, bulkhead, timeout.
///
/// One method, like Hummingbird's `MiddlewareProtocol`: anything that can run an operation on the caller's
/// behalf can take part in a ``ResiliencePipeline``.
public protocol ResilienceStrategy: Sendable {
    func execute<Output: Sendable>(_ operation: @escaping @Sendable () async throws -> Output) async throws -> Output
}

/// One stage of a typed pipeline, for policies whose behaviour depends on the result type
/// (a fallback value, a retry or failure predicate on results).
public struct ResilienceStage<Output: Sendable>: Sendable {
    let run: @Sendable (_ next: @escaping @Sendable () async throws -> Output) async throws -> Output

    public init(_ run: @escaping @Sendable (_ next: @escaping @Sendable () async throws -> Output) async throws -> Output) {
        self.run = run
    }
}

/// Policies composed outermost-first, run around an operation.
///
/// The order matters, and the usual one (Polly's and Resilience4j's advice) is:
/// fallback → total timeout → retry → circuit breaker → rate limiter → bulkhead → attempt timeout.
/// Retry outside the breaker means each attempt is counted by the breaker, and an open breaker stops the retries.
///
/// ```swift
/// let pipeline = ResiliencePipeline<Int> {
///     Fallback { _ in 0 }
///     try RetryStrategy(maxAttempts: 3).retrying(when: RetryPredicate(onResult: { $0 < 0 ? .retry : .doNotRetry }))
///     breaker
///     try Timeout(.seconds(1))
/// }
/// ```
public struct ResiliencePipeline<Output: Sendable>: Sendable {
    private let stages: [ResilienceStage<Output>]

    public init(@ResiliencePipelineBuilder<Output> _ build: () throws -> [ResilienceStage<Output>]) rethrows {
        self.stages = try build()
    }

    public init(stages: [ResilienceStage<Output>]) {
        self.stages = stages
    }

    /// Runs `operation` through every stage.
    public func execute(_ operation: @escaping @Sendable () async throws -> Output) async throws -> Output {
        var next = operation
        for stage in stages.reversed() {
            let inner = next
            next = { try await stage.run(inner) }
        }
        return try await next()
    }
}

@resultBuilder
public enum ResiliencePipelineBuilder<Output: Sendable> {
    public static func buildExpression(_ strategy: some ResilienceStrategy) -> [ResilienceStage<Output>] {
        [ResilienceStage { next in try await strategy.execute(next) }]
    }

    public static func buildExpression(_ stage: ResilienceStage<Output>) -> [ResilienceStage<Output>] {
        [stage]
    }

    public static func buildExpression(_ fallback: Fallback<Output>) -> [ResilienceStage<Output>] {
        [ResilienceStage { next in try await fallback.execute(next) }]
    }

    public static func buildBlock(_ components: [ResilienceStage<Output>]...) -> [ResilienceStage<Output>] {
        components.flatMap { $0 }
    }

    public static func buildOptional(_ component: [ResilienceStage<Output>]?) -> [ResilienceStage<Output>] {
        component ?? []
    }

    public static func buildEither(first component: [ResilienceStage<Output>]) -> [ResilienceStage<Output>] {
        component
    }

    public static func buildEither(second component: [ResilienceStage<Output>]) -> [ResilienceStage<Output>] {
        component
    }

    public static func buildArray(_ components: [[ResilienceStage<Output>]]) -> [ResilienceStage<Output>] {
        components.flatMap { $0 }
    }
}

extension RetryStrategy {
    /// This strategy as a pipeline stage that retries as `predicate` decides, including on results.
    public func retrying<Output: Sendable>(when predicate: RetryPredicate<Output>) -> ResilienceStage<Output> {
        ResilienceStage { next in try await self.execute(when: predicate) { _ in try await next() } }
    }
}

extension CircuitBreaker {
    /// This breaker as a pipeline stage that also counts results for which `isFailure` is true as failures.
    public func counting<Output: Sendable>(
        resultsAsFailure isFailure: @escaping @Sendable (Output) -> Bool
    ) -> ResilienceStage<Output> {
        ResilienceStage { next in try await self.execute(isFailure: isFailure, next) }
    }
}
