import AsyncHTTPClient
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// The end of the pipeline: one request over AsyncHTTPClient, with the body read up to the size limit.
struct AsyncHTTPClientTransport: Sendable {
    let httpClient: HTTPClient
    let maxResponseBodySize: Int
    let userAgent: String?
    let redaction: Redaction

    func send(_ request: ClientRequest, context: ClientContext) async throws -> ClientResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        outgoing.headers.reserveCapacity(request.headerFields.count + 1)
        for field in request.headerFields {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if let userAgent, request.headerFields[.userAgent] == nil {
            outgoing.headers.add(name: "User-Agent", value: userAgent)
        }
        if let body = request.body {
            outgoing.body = .bytes(body)
        }
        context.attempts.increment()
        let timeout = request.options.attemptTimeout ?? context.policy.attemptTimeout ?? .seconds(300)
        let response = try await httpClient.execute(outgoing, timeout: .nanoseconds(timeout.nanosecondsClamped), logger: context.logger)
        var headers = HTTPFields()
        headers.reserveCapacity(response.headers.count)
        for (name, value) in response.headers {
            if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
        }
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > maxResponseBodySize {
            throw HTTPResponseTooLarge(limit: maxResponseBodySize, announced: length)
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxResponseBodySize)
        } catch is NIOTooManyBytesError {
            throw HTTPResponseTooLarge(limit: maxResponseBodySize, announced: nil)
        }
        return ClientResponse(
            status: HTTPResponse.Status(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
            headerFields: headers,
            body: body,
            attempts: context.attempts.value,
            requestLine: RequestLine(method: request.method, url: redaction.redact(url: request.url))
        )
    }
}

/// The response body exceeded the configured limit.
struct HTTPResponseTooLarge: Error, CustomStringConvertible {
    let limit: Int
    let announced: Int?
    var description: String {
        if let announced { return "response announces \(announced) bytes, more than the limit of \(limit)" }
        return "response body exceeds the limit of \(limit) bytes"
    }
}

extension Duration {
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        guard seconds < Int64.max / 1_000_000_000 else { return .max }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
