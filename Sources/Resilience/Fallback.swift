/// Replaces a failure with a substitute value: a cached copy, a default, a degraded answer.
///
/// ```swift
/// let fallback = Fallback<[Repo]> { error in cache.last ?? [] }
/// let repos = try await fallback.execute { try await github.repos() }
/// ```
public struct Fallback<Output: Sendable>: Sendable {
    private let shouldHandle: @Sendable (any Error) -> Bool
    private let substitute: @Sendable (any Error) async throws -> Output

    /// - Parameters:
    ///   - shouldHandle: which errors to replace; cancellation is never replaced.
    ///   - substitute: produces the value instead; may itself throw.
    public init(
        when shouldHandle: @escaping @Sendable (any Error) -> Bool = { _ in true },
        _ substitute: @escaping @Sendable (any Error) async throws -> Output
    ) {
        self.shouldHandle = shouldHandle
        self.substitute = substitute
    }

    public func execute(_ operation: @Sendable () async throws -> Output) async throws -> Output {
        do {
            return try await operation()
        } catch is CancellationError {
            throw CancellationError()
        } catch let error where shouldHandle(error) {
            return try await substitute(error)
        }
    }
}
