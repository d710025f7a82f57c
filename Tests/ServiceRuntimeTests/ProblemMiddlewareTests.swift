import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeCore
import ServiceRuntime
import Testing

@Suite("ProblemMiddleware")
struct ProblemMiddlewareTests {
    struct Order: Decodable {
        let sku: String
        let quantity: Int
    }

    func app() -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: ProblemMiddleware(maxBodySize: 64))
        router.get("/weather") { request, _ -> String in
            guard let city = request.uri.queryParameters["city"], !city.isEmpty else {
                throw ProblemError.invalidParameter("city", "must not be empty")
            }
            return String(city)
        }
        router.post("/orders") { request, context -> String in
            let order = try await request.decodeJSON(Order.self)
            return order.sku
        }
        router.get("/crash") { _, _ -> String in
            struct Secret: Error { let password = "hunter2" }
            throw Secret()
        }
        return Application(router: router)
    }

    func problem(_ response: TestResponse) throws -> ProblemDetails {
        #expect(response.headers[.contentType] == "application/problem+json")
        return try JSONDecoder().decode(ProblemDetails.self, from: Data(buffer: response.body))
    }

    @Test("a ProblemError becomes problem+json naming the parameter")
    func problemError() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/weather?city=", method: .get)
            #expect(response.status == .badRequest)
            let problem = try problem(response)
            #expect(problem.extensions["parameter"] == "city")
            #expect(problem.detail == "city: must not be empty")
            #expect(problem.instance == "/weather")
        }
    }

    @Test("a malformed or mis-shaped JSON body is a 400 naming the field")
    func decodingErrors() async throws {
        try await app().test(.router) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            let missing = try await client.execute(uri: "/orders", method: .post, headers: json, body: ByteBuffer(string: #"{"sku":"A"}"#))
            #expect(missing.status == .badRequest)
            let problem = try problem(missing)
            #expect(problem.extensions["field"] == "quantity")
            #expect(problem.detail == "quantity: is required")
            let malformed = try await client.execute(uri: "/orders", method: .post, headers: json, body: ByteBuffer(string: #"{"sku":1,"#))
            #expect(malformed.status == .badRequest)
            #expect(try self.problem(malformed).title == "Invalid request body")
        }
    }

    @Test("an oversized body is refused with 413 before the handler runs")
    func bodyLimit() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/orders", method: .post, body: ByteBuffer(string: String(repeating: "x", count: 100)))
            #expect(response.status == .contentTooLarge)
            #expect(try problem(response).detail?.contains("exceeds the limit of 64 bytes") == true)
        }
    }

    @Test("unknown routes and unexpected errors are problems too, without internals")
    func unknownAndUnexpected() async throws {
        try await app().test(.router) { client in
            let missing = try await client.execute(uri: "/nowhere", method: .get)
            #expect(missing.status == .notFound)
            #expect(try problem(missing).detail == "no route for GET /nowhere")
            let crash = try await client.execute(uri: "/crash", method: .get)
            #expect(crash.status == .internalServerError)
            #expect(try problem(crash).extensions["requestId"] != nil)
            #expect(!String(buffer: crash.body).contains("hunter2"))
        }
    }
}
