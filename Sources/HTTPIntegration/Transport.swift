import AsyncHTTPClient
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import Resilience

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
        // The attempt's deadline (on the client's clock) becomes AsyncHTTPClient's own timeout, enforced on the
        // event loop: no extra tasks or timers per request, and the request is cancelled when it passes.
        var timeout = Duration.seconds(300)
        if let deadline = context.deadline {
            timeout = deadline.instant - context.client.clock.now
            guard timeout > .zero else { throw TimeoutError(timeout: deadline.limit) }
        }
        context.attempts.increment()
        let response: HTTPClientResponse
        do {
            // AsyncHTTPClient logs only at debug and trace, but tags the request's logger with metadata on every
            // request whatever the level, which with swift-log's stream handler re-renders all of it (≈ 3% of
            // client CPU). Hand it the logger only when it would log.
            let ahcLogger = context.logger.logLevel <= .debug ? context.logger : nil
            response = try await httpClient.execute(outgoing, timeout: .nanoseconds(timeout.nanosecondsClamped), logger: ahcLogger)
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw TimeoutError(timeout: context.deadline?.limit ?? timeout)
        }
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > maxResponseBodySize {
            throw HTTPResponseTooLarge(limit: maxResponseBodySize, announced: length)
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxResponseBodySize)
        } catch is NIOTooManyBytesError {
            throw HTTPResponseTooLarge(limit: maxResponseBodySize, announced: nil)
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw TimeoutError(timeout: context.deadline?.limit ?? timeout)
        }
        return ClientResponse(
            status: HTTPResponse.Status(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
            receivedHeaders: response.headers,
            body: body,
            attempts: context.attempts.value,
            requestLine: RequestLine(method: request.method, url: request.url, redaction: redaction)
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
