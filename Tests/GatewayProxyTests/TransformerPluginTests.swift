import AsyncHTTPClient
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import InterchangeCore
import InterchangeTesting
import NIOCore
import Testing

@testable import GatewayProxy

@Suite("Gateway plugins: request-transformer and response-transformer", .timeLimit(.minutes(2)))
struct TransformerPluginTests {
    func withPlugin(_ plugin: String, _ body: (_ gateway: String, _ seen: LockedValue<[Seen]>) async throws -> Void) async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            try await withGateway(GatewayPluginTests.yaml(upstream: ports[0], plugins: plugin)) { _, gateway in try await body(gateway, seen) }
        }
    }

    static func object(_ text: String) throws -> [String: JSONValue] { try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8)) }

    @Test("request headers and query: remove → rename → replace → add → append, each on what exists or not")
    func requestHeadersAndQuery() async throws {
        let plugin = """
              - name: request-transformer
                config:
                  remove: {headers: [X-Debug], querystring: [debug]}
                  rename: {headers: ["X-Old:X-New"], querystring: ["q:query"]}
                  replace: {headers: ["X-Tier:gold", "X-Absent:nothing"], querystring: ["page:1"]}
                  add: {headers: ["X-Source:gateway", "X-Tier:silver"], querystring: ["lang:en"]}
                  append: {headers: ["X-Trace:b"], querystring: ["tag:new"]}
            """
        try await withPlugin(plugin) { gateway, seen in
            let headers = [("X-Debug", "1"), ("X-Old", "kept"), ("X-Tier", "bronze"), ("X-Trace", "a")]
            let status = try await call(.GET, "\(gateway)/search?debug=1&q=shoes&page=7&tag=old", headers: headers).status
            #expect(status == 200)
            let request = try #require(seen.value.first)
            #expect(request.headers["x-debug"] == nil)
            #expect(request.headers["x-old"] == nil && request.headers["x-new"] == "kept")
            #expect(request.headers["x-tier"] == "gold", "replaced, and add does not touch a field that exists")
            #expect(request.headers["x-absent"] == nil, "replace only changes what exists")
            #expect(request.headers["x-source"] == "gateway")
            #expect(request.headers["x-trace"] == "a, b")
            #expect(request.path == "/search?query=shoes&tag=old&page=1&lang=en&tag=new")
        }
    }

    @Test("request body: a JSON object and a form are edited and resent with their new length; other bodies stream untouched")
    func requestBody() async throws {
        let plugin = """
              - name: request-transformer
                config:
                  http_method: PUT
                  replace: {uri: /v2/orders, body: ["status:new"]}
                  remove: {body: [secret]}
                  rename: {body: ["qty:quantity"]}
                  add: {body: ["source:gateway"]}
                  append: {body: ["tags:web"]}
            """
        try await withPlugin(plugin) { gateway, seen in
            let json = #"{"qty":2,"secret":"s3","status":"draft","tags":"mobile","nested":{"a":1}}"#
            let jsonStatus = try await call(.POST, "\(gateway)/orders", headers: [("Content-Type", "application/json")], body: json).status
            let formStatus = try await call(
                .POST,
                "\(gateway)/orders",
                headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: "qty=3&secret=x&note=hello+world"
            ).status
            let textStatus = try await call(.POST, "\(gateway)/orders", headers: [("Content-Type", "text/plain")], body: "secret=1").status
            let badStatus = try await call(.POST, "\(gateway)/orders", headers: [("Content-Type", "application/json")], body: "[1,2]")
            #expect([jsonStatus, formStatus, textStatus] == [Int](repeating: 200, count: 3))
            #expect(badStatus.status == 400 && badStatus.body.contains("not a JSON object"))
            let (edited, form, text) = (seen.value[0], seen.value[1], seen.value[2])
            #expect(edited.method == "PUT" && edited.path == "/v2/orders")
            let object = try Self.object(edited.body)
            #expect(
                object == [
                    "quantity": .number(2), "status": .string("new"), "source": .string("gateway"),
                    "tags": .array([.string("mobile"), .string("web")]), "nested": .object(["a": .number(1)]),
                ]
            )
            #expect(edited.headers["content-length"] == String(edited.bodyBytes))
            #expect(form.body == "quantity=3&note=hello%20world&source=gateway&tags=web")
            #expect(text.body == "secret=1", "a body of another type passes untouched")
            #expect(seen.value.count == 3, "the body that could not be edited was not sent")
        }
    }

    @Test("response headers (every response) and a JSON body's members are edited, with json_types")
    func responseTransformer() async throws {
        let upstream = AnyRequest { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json", .init("X-Powered-By")!: "php", .init("X-Old")!: "v"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"id":7,"internal":true,"price":"9.5","tags":["a"]}"#))
            )
        }
        try await LoopbackServer.run(upstream) { server in
            let plugins = """
                  - name: response-transformer
                    config:
                      remove: {headers: [X-Powered-By], json: [internal]}
                      rename: {headers: ["X-Old:X-New"], json: ["id:orderId"]}
                      replace: {json: ["price:10.5"], json_types: [number]}
                      add: {headers: ["X-Gateway:interchange"], json: ["cached:false", "currency:usd"], json_types: [boolean]}
                      append: {json: ["tags:b"]}
                """
            try await withGateway(GatewayPluginTests.yaml(upstream: server.port, plugins: plugins)) { _, gateway in
                let response = try await call(.GET, "\(gateway)/order")
                #expect(response.status == 200)
                #expect(response.headers["X-Powered-By"].isEmpty && response.headers["X-New"] == ["v"])
                #expect(response.headers["X-Gateway"] == ["interchange"])
                #expect(response.headers["Content-Length"] == [String(response.body.utf8.count)])
                let object = try Self.object(response.body)
                #expect(
                    object == [
                        "orderId": .number(7), "price": .number(10.5), "cached": .bool(false), "currency": .string("usd"),
                        "tags": .array([.string("a"), .string("b")]),
                    ]
                )
            }
        }
    }
}
