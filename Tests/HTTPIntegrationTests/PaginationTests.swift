import Foundation
import HTTPIntegration
import HTTPTypes
import InterchangeTesting
import Testing

@Suite("Resilient HTTP client: pagination", .timeLimit(.minutes(1)))
struct PaginationTests {
    struct Repo: Decodable, Sendable, Equatable { let id: Int }

    @Test("RFC 8288 Link headers are followed until there is no next page")
    func linkHeader() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.handle("/repos") { request in
                let page = Int(request.queryValue("page") ?? "1") ?? 1
                var links = [#"<\#(server.baseURL)/repos?page=3>; rel="last""#]
                if page < 3 { links.insert(#"</repos?page=\#(page + 1)>; rel="next""#, at: 0) }
                return .json("[{\"id\":\(page * 10)},{\"id\":\(page * 10 + 1)}]", headers: [("Link", links.joined(separator: ", "))])
            }
            try await withClient(policy: testPolicy()) { client in
                let request = try ClientRequest(url: "\(server.baseURL)/repos")
                var ids: [Int] = []
                for try await repo in client.items(of: request, style: .linkHeader, as: Repo.self) { ids.append(repo.id) }
                #expect(ids == [10, 11, 20, 21, 30, 31])
                #expect(server.requests(to: "/repos").count == 3)
            }
        }
    }

    @Test("a next link to another origin is refused")
    func offOriginLink() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/repos", .json("[]", headers: [("Link", #"<https://evil.example/steal>; rel="next""#)]))
            try await withClient(policy: testPolicy()) { client in
                let request = try ClientRequest(url: "\(server.baseURL)/repos")
                let error = try await integrationError { for try await _ in client.pages(of: request, style: .linkHeader) {} }
                #expect(error.code == .pagination)
                #expect(error.reason?.contains("leaves the origin") == true)
            }
        }
    }

    @Test("a next link that loops back ends the sequence")
    func loopingLink() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/repos", .json("[]", headers: [("Link", #"</repos>; rel="next""#)]))
            try await withClient(policy: testPolicy()) { client in
                var pages = 0
                for try await _ in client.pages(of: try ClientRequest(url: "\(server.baseURL)/repos"), style: .linkHeader) { pages += 1 }
                #expect(pages == 1)
                #expect(server.requests(to: "/repos").count == 1, "the page linking to itself is not fetched again")
            }
        }
    }

    @Test("Stripe-style cursors: has_more and starting_after the last id")
    func stripeCursor() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.handle("/v1/charges") { request in
                switch request.queryValue("starting_after") {
                case nil: .json(#"{"object":"list","data":[{"id":"ch_1"},{"id":"ch_2"}],"has_more":true}"#)
                case "ch_2": .json(#"{"object":"list","data":[{"id":"ch_3"}],"has_more":false}"#)
                default: .status(400)
                }
            }
            struct Charge: Decodable, Sendable { let id: String }
            try await withClient(policy: testPolicy()) { client in
                let request = try ClientRequest(url: "\(server.baseURL)/v1/charges?limit=2")
                var ids: [String] = []
                for try await charge in client.items(of: request, style: .stripe, itemsKey: "data", as: Charge.self) { ids.append(charge.id) }
                #expect(ids == ["ch_1", "ch_2", "ch_3"])
                #expect(server.requests(to: "/v1/charges").last?.queryValue("limit") == "2")
            }
        }
    }

    @Test("page numbers until a short page; offsets until a short page")
    func pageAndOffset() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let all = Array(1...7)
            server.handle("/paged") { request in
                let page = Int(request.queryValue("page") ?? "0")!
                let size = Int(request.queryValue("per_page") ?? "0")!
                let slice = all.dropFirst((page - 1) * size).prefix(size)
                return .json("[\(slice.map(String.init).joined(separator: ","))]")
            }
            server.handle("/offset") { request in
                let offset = Int(request.queryValue("offset") ?? "0")!
                let limit = Int(request.queryValue("limit") ?? "0")!
                return .json(#"{"items":[\#(all.dropFirst(offset).prefix(limit).map(String.init).joined(separator: ","))]}"#)
            }
            try await withClient(policy: testPolicy()) { client in
                var paged: [Int] = []
                let pageRequest = try ClientRequest(url: "\(server.baseURL)/paged")
                for try await n in client.items(of: pageRequest, style: .pageNumber(pageSize: 3), as: Int.self) { paged.append(n) }
                #expect(paged == all)
                var offset: [Int] = []
                let offsetRequest = try ClientRequest(url: "\(server.baseURL)/offset")
                for try await n in client.items(of: offsetRequest, style: .offset(limit: 3), itemsKey: "items", as: Int.self) { offset.append(n) }
                #expect(offset == all)
                #expect(server.requests(to: "/offset").count == 3)
            }
        }
    }

    @Test("maxPages stops a runaway API with an error")
    func maxPages() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.handle("/endless") { request in
                let page = Int(request.queryValue("page") ?? "1")!
                return .json("[1]", headers: [("Link", "</endless?page=\(page + 1)>; rel=next")])
            }
            try await withClient(policy: testPolicy()) { client in
                let request = try ClientRequest(url: "\(server.baseURL)/endless")
                let error = try await integrationError { for try await _ in client.pages(of: request, style: .linkHeader, maxPages: 5) {} }
                #expect(error.code == .pagination)
                #expect(server.requests(to: "/endless").count == 5)
            }
        }
    }

    @Test("Link header parsing: several links, several rels, quoted commas and semicolons")
    func linkParsing() {
        let links = LinkHeader.parse(
            #"<https://a.example/x?page=2>; rel="next last"; title="a, b; c", <https://a.example/x?page=1>;rel=prev ,<broken"#
        )
        #expect(links.count == 2)
        #expect(links[0].target == "https://a.example/x?page=2")
        #expect(links[0].relations == ["next", "last"])
        #expect(links[0].parameters["title"] == "a, b; c")
        #expect(links[1].relations == ["prev"])
        #expect(LinkHeader.parse("").isEmpty)
    }

    @Test("Link header parsing: a malformed link is skipped and the links after it are still read")
    func linkParsingSkipsMalformed() {
        let links = LinkHeader.parse(
            [
                #"junk, <https://a.example/x?page=2>; rel="next""#,
                #"<unclosed, <https://a.example/x?page=9>; rel=last"#,
                #"<https://a.example/x?page=7>garbage; rel=prev, <https://a.example/x?page=1>; rel="first""#,
                #"rel=next; title="a, <b>", <https://a.example/x?page=3>; rel="next last""#,
            ]
        )
        #expect(
            links.map(\.target) == [
                "https://a.example/x?page=2", "https://a.example/x?page=9", "https://a.example/x?page=1", "https://a.example/x?page=3",
            ]
        )
        #expect(links.map(\.relations) == [["next"], ["last"], ["first"], ["next", "last"]])
    }
}
