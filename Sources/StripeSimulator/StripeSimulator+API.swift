import HTTPTypes
import Hummingbird
import InterchangeCore
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One authenticated API request, as a route's operation sees it.
struct StripeAPICall: Sendable {
    var parameters: StripeParameters
    var apiKey: String
    var requestID: String
    var idempotencyKey: String?
    var now: Int
    var pathParameters: Parameters

    /// Who the events of this request are attributed to.
    var origin: StripeSimulatorState.Origin { .init(requestID: requestID, idempotencyKey: idempotencyKey) }

    func pathID(_ name: String = "id") -> String { pathParameters.get(name) ?? "" }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    static let originalRequest = Self("Original-Request")!
    static let requestID = Self("Request-Id")!
    static let stripeVersion = Self("Stripe-Version")!
}

extension StripeSimulator {
    typealias Operation = @Sendable (StripeAPICall) async throws(StripeAPIError) -> StripeJSON

    /// Runs `operation` with Stripe's request handling around it: authentication, parameters from the query
    /// (GET, DELETE) or the form body (POST), `Idempotency-Key` for POST, and the error object for every failure.
    ///
    /// Idempotency: keys are scoped by API key and kept 24 h; a POST with a known key and the same method, path and
    /// parameters replays the stored status and body with `Idempotent-Replayed: true`; other parameters → 400
    /// `idempotency_error`; the same key while the first request still runs → 409 `idempotency_error` (the
    /// SDKs retry a 409). Answers to requests whose parameters failed validation are not stored, as Stripe does.
    func handle(_ request: Request, _ context: BasicRequestContext, _ operation: Operation) async -> Response {
        let requestID = RandomIdentifier.make(prefix: "req", length: 14)
        var request = request
        let apiKey: String
        switch authenticate(request.headers[.authorization]) {
        case .success(let key): apiKey = key
        case .failure(let error): return respond(error, requestID: requestID)
        }
        let isPost = request.method == .post
        var encoded = request.uri.query ?? ""
        if isPost {
            guard let body = try? await request.collectBody(upTo: configuration.maxBodySize) else {
                return respond(
                    StripeAPIError(status: .contentTooLarge, message: "The request body is larger than \(configuration.maxBodySize) bytes."),
                    requestID: requestID
                )
            }
            let text = String(buffer: body)
            if !text.isEmpty { encoded = encoded.isEmpty ? text : encoded + "&" + text }
        }
        let form: StripeForm
        do {
            form = try StripeForm(decoding: encoded)
        } catch {
            return respond(
                StripeAPIError(status: .badRequest, message: "Invalid request: \(error)", param: error.key, isValidation: true),
                requestID: requestID
            )
        }
        let idempotencyKey = isPost ? request.headers[.idempotencyKey].flatMap { $0.isEmpty ? nil : $0 } : nil
        let call = StripeAPICall(
            parameters: StripeParameters(form: form),
            apiKey: apiKey,
            requestID: requestID,
            idempotencyKey: idempotencyKey,
            now: Self.unix(now()),
            pathParameters: context.parameters
        )
        guard let idempotencyKey else { return await run(operation, call).response }

        guard idempotencyKey.count <= 255 else {
            return respond(
                .invalid("Idempotency-Key", "Idempotency keys can be up to 255 characters long; this one has \(idempotencyKey.count)."),
                requestID: requestID
            )
        }
        let fingerprint =
            "POST \(request.uri.path)\n" + form.canonicalPairs.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        switch state.claimIdempotent(scope: apiKey, key: idempotencyKey, fingerprint: fingerprint, now: call.now) {
        case .mismatch:
            return respond(.idempotencyMismatch(idempotencyKey), requestID: requestID, idempotencyKey: idempotencyKey)
        case .inProgress:
            return respond(.idempotencyInProgress, requestID: requestID, idempotencyKey: idempotencyKey)
        case .replay(let stored):
            var headers = jsonHeaders(requestID: requestID, idempotencyKey: idempotencyKey)
            headers[.idempotentReplayed] = "true"
            headers[.originalRequest] = stored.requestID
            return Response(
                status: .init(code: stored.status),
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: stored.body))
            )
        case .run:
            let (response, body, error) = await run(operation, call)
            if let error, error.isValidation {
                state.releaseIdempotent(scope: apiKey, key: idempotencyKey)
            } else {
                state.finishIdempotent(
                    scope: apiKey,
                    key: idempotencyKey,
                    response: .init(status: response.status.code, body: body, requestID: requestID)
                )
            }
            return response
        }
    }

    private func run(_ operation: Operation, _ call: StripeAPICall) async -> (response: Response, body: String, error: StripeAPIError?) {
        do {
            let json = try await operation(call)
            let body = json.serialized()
            return (
                Response(
                    status: .ok,
                    headers: jsonHeaders(requestID: call.requestID, idempotencyKey: call.idempotencyKey),
                    body: .init(byteBuffer: ByteBuffer(string: body))
                ),
                body,
                nil
            )
        } catch {
            return (respond(error, requestID: call.requestID, idempotencyKey: call.idempotencyKey), error.json.serialized(), error)
        }
    }

    /// `Bearer <key>`, or `Basic base64(<key>:)` as curl's `-u sk_test_…:` sends it.
    func authenticate(_ authorization: String?) -> Result<String, StripeAPIError> {
        guard let authorization = authorization?.trimmingCharacters(in: .whitespaces), !authorization.isEmpty else {
            return .failure(.noAPIKey)
        }
        let parts = authorization.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return .failure(.invalidAPIKey(authorization)) }
        let key: String
        switch parts[0].lowercased() {
        case "bearer":
            key = parts[1].trimmingCharacters(in: .whitespaces)
        case "basic":
            guard let decoded = Data(base64Encoded: parts[1].trimmingCharacters(in: .whitespaces)).flatMap({ String(data: $0, encoding: .utf8) })
            else { return .failure(.invalidAPIKey(parts[1])) }
            key = String(decoded.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        default:
            return .failure(.invalidAPIKey(parts[1]))
        }
        guard !key.isEmpty else { return .failure(.noAPIKey) }
        guard configuration.apiKeys.contains(key) else { return .failure(.invalidAPIKey(key)) }
        return .success(key)
    }

    func jsonHeaders(requestID: String, idempotencyKey: String? = nil) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.requestID] = requestID
        // The version the answer's shapes are, whatever the client pinned (no per-version shapes here).
        headers[.stripeVersion] = StripeEvent.apiVersion
        headers[.cacheControl] = "no-cache, no-store"
        if let idempotencyKey { headers[.idempotencyKey] = idempotencyKey }
        return headers
    }

    func respond(_ error: StripeAPIError, requestID: String, idempotencyKey: String? = nil) -> Response {
        var headers = jsonHeaders(requestID: requestID, idempotencyKey: idempotencyKey)
        if error.status == .unauthorized { headers[.wwwAuthenticate] = "Basic realm=\"Stripe\"" }
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: error.json.serialized())))
    }
}
