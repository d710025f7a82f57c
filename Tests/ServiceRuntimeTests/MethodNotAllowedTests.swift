import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeCore
import ServiceRuntime
import Testing

@Suite("405 Method Not Allowed", .timeLimit(.minutes(1)))
struct MethodNotAllowedTests {
    func app() -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        router.get("/orders") { _, _ in "all" }
        router.post("/orders") { _, _ in "created" }
        router.get("/orders/:id") { _, context -> String in
            let id = try context.parameters.require("id")
            guard id == "o_1" else { throw HTTPError(.notFound, message: "no order \(id)") }
            return id
        }
        router.delete("/orders/:id") { _, _ in HTTPResponse.Status.noContent }
        router.get("/files/**") { _, _ in "file" }
        router.addMethodNotAllowedResponses()
        return Application(router: router)
    }

    @Test("a known path with an unrouted method is 405 problem+json with Allow listing the routed methods")
    func methodNotAllowed() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/orders", method: .put)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET, POST")
            #expect(response.headers[.contentType] == "application/problem+json")
            let problem = try JSONDecoder().decode(ProblemDetails.self, from: Data(buffer: response.body))
            #expect(problem.status == 405)
            #expect(problem.detail == "PUT is not allowed on /orders; allowed: GET, POST")

            let parameterised = try await client.execute(uri: "/orders/o_2", method: .patch)
            #expect(parameterised.status == .methodNotAllowed)
            #expect(parameterised.headers[.allow] == "DELETE, GET")
            let wildcard = try await client.execute(uri: "/files/a/b.txt", method: .post)
            #expect(wildcard.headers[.allow] == "GET")
        }
    }

    @Test("unknown paths stay 404, a handler's own 404 stands, and routed methods are untouched")
    func otherAnswersUnchanged() async throws {
        try await app().test(.router) { client in
            #expect(try await client.execute(uri: "/nowhere", method: .put).status == .notFound)
            #expect(try await client.execute(uri: "/orders/o_1/lines", method: .get).status == .notFound)
            let missing = try await client.execute(uri: "/orders/o_2", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.allow] == nil)
            #expect(String(buffer: missing.body).contains("no order o_2"))
            #expect(try await client.execute(uri: "/orders", method: .post).status == .ok)
            #expect(try await client.execute(uri: "/orders/o_1", method: .delete).status == .noContent)
        }
    }
}

@Suite("OpenAPI document route")
struct OpenAPIDocumentTests {
    @Test("serves the file's bytes as application/yaml with an ETag, and 304 on a matching If-None-Match")
    func servesDocument() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString).yaml")
        let text = "openapi: 3.1.0\ninfo: { title: t, version: '1' }\npaths: {}\n"
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let document = try OpenAPIDocument(servedAt: "/api/openapi.yaml", contentsOf: file)
        let router = Router()
        document.addRoute(to: router)
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(uri: "/api/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(String(buffer: response.body) == text)
            let etag = try #require(response.headers[.eTag])
            let again = try await client.execute(uri: "/api/openapi.yaml", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
        }
    }

    @Test("a missing resource is an error naming where the document would be served")
    func missing() {
        #expect {
            try OpenAPIDocument(servedAt: "/admin/x/openapi.yaml", contentsOf: nil)
        } throws: { error in
            "\(error)".contains("/admin/x/openapi.yaml")
        }
    }
}

@Suite("RFC 3339 date-time transcoder")
struct RFC3339DateTranscoderTests {
    let transcoder = RFC3339DateTranscoder()

    @Test(
        "reads every RFC 3339 date-time: fractions, offsets, lowercase t and z, a leap second",
        arguments: [
            ("2026-01-01T00:00:00Z", 1_767_225_600.0),
            ("2026-01-01T00:00:00.5Z", 1_767_225_600.5),
            ("2026-01-01t05:30:00+05:30", 1_767_225_600.0),
            ("2025-12-31T01:43:00-22:17", 1_767_225_600.0),
            ("2026-01-01T00:00:00.123456z", 1_767_225_600.123456),
            ("2016-12-31T23:59:60Z", 1_483_228_800.0),
            ("0001-01-01T00:00:00Z", -62_135_596_800.0),
        ]
    )
    func reads(text: String, seconds: Double) throws {
        #expect(abs(try transcoder.decode(text).timeIntervalSince1970 - seconds) < 0.000_001)
    }

    @Test(
        "refuses what is not one, naming it",
        arguments: [
            "2026-01-01", "2026-01-01T00:00:00", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T12:30:60Z",
            "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00.Z", "2026-01-01 00:00:00Z", "2026-1-01T00:00:00Z", "２０２６-01-01T00:00:00Z",
        ]
    )
    func refuses(text: String) {
        #expect {
            try transcoder.decode(text)
        } throws: { error in
            "\(error)".contains(text.prefix(20))
        }
    }

    @Test("writes whole seconds in UTC, as the runtime's default does")
    func writes() throws {
        #expect(try transcoder.encode(Date(timeIntervalSince1970: 1_767_225_600.75)) == "2026-01-01T00:00:00Z")
    }
}
