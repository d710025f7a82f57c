import Hummingbird

/// Applies a simulator's ``SimulatorControls`` to its API routes: counts each request by path, waits the
/// configured latency, and answers with the API's own `503` during an outage or when the error rate says so.
///
/// Rate limiting is not decided here: each simulator answers it after authentication, the way the real API does.
struct SimulatorFaultMiddleware<Context: RequestContext>: RouterMiddleware {
    let controls: SimulatorControls
    /// Stripped from the request path before counting, so counts use the real API's paths.
    let basePath: String
    /// The API's `503` response.
    let unavailable: @Sendable () -> Response

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var path = request.uri.path
        if !basePath.isEmpty, path.hasPrefix(basePath) { path = String(path.dropFirst(basePath.count)) }
        let admission = controls.admit(path: path.isEmpty ? "/" : path)
        if admission.latency > .zero {
            try await controls.sleep(admission.latency)
        }
        if admission.unavailable {
            return unavailable()
        }
        return try await next(request, context)
    }
}

/// A base path as given (`""`, `"/"`, `"sim/openweathermap/"`) made canonical: empty, or `/a/b` without a trailing slash.
func normalizedBasePath(_ path: String) -> String {
    let trimmed = path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    return trimmed.isEmpty ? "" : "/" + trimmed
}
