import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import Simulators
import Testing

/// Mirrors of the GitHub GraphQL bodies, member names exactly as on the wire.
enum GitHub {
    struct DashboardResponse: Decodable {
        struct Payload: Decodable {
            let repository: Repository?
            let rateLimit: RateLimit
        }
        let data: Payload
    }

    struct Repository: Decodable, Equatable {
        struct Count: Decodable, Equatable { let totalCount: Int }
        struct Language: Decodable, Equatable {
            let name: String
            let color: String?
        }
        struct Languages: Decodable, Equatable {
            struct Edge: Decodable, Equatable {
                let size: Int
                let node: Language
            }
            let totalSize: Int
            let edges: [Edge]
        }
        struct Release: Decodable, Equatable {
            let name: String?
            let tagName: String
            let publishedAt: String?
            let url: String
        }
        struct Ref: Decodable, Equatable {
            struct Target: Decodable, Equatable {
                struct History: Decodable, Equatable { let nodes: [Commit] }
                let history: History
            }
            let name: String
            let target: Target?
        }
        struct Commit: Decodable, Equatable {
            struct Author: Decodable, Equatable {
                struct User: Decodable, Equatable { let login: String }
                let name: String?
                let user: User?
            }
            let oid: String
            let messageHeadline: String
            let committedDate: String
            let url: String
            let author: Author?
        }

        let name: String
        let nameWithOwner: String
        let description: String?
        let url: String
        let stargazerCount: Int
        let forkCount: Int
        let issues: Count
        let pullRequests: Count
        let primaryLanguage: Language?
        let languages: Languages
        let latestRelease: Release?
        let defaultBranchRef: Ref?
    }

    struct RateLimit: Decodable, Equatable {
        let cost: Int
        let limit: Int
        let remaining: Int
        let resetAt: String
        let used: Int
    }

    struct ErrorsOnly: Decodable {
        struct Error: Decodable {
            struct Location: Decodable, Equatable {
                let line: Int
                let column: Int
            }
            let type: String?
            let code: String?
            let path: [String]?
            let locations: [Location]?
            let message: String
            let extensions: [String: String]?
        }
        let errors: [Error]
    }
}

@Suite("GitHub GraphQL simulator")
struct GitHubSimulatorTests {
    /// The simulators' time: the fixtures' recording time until a test moves it.
    let clock = ManualClock(epoch: fixtureTime)
    let token = "interchange-demo-token"

    var query: String { get throws { String(decoding: try fixture("github/repository-query.graphql"), as: UTF8.self) } }

    func request(_ query: String, owner: String = "apple", name: String = "swift-nio") throws -> ByteBuffer {
        struct Request: Encodable {
            var query: String
            var variables: [String: String]
        }
        return ByteBuffer(bytes: try JSONEncoder().encode(Request(query: query, variables: ["owner": owner, "name": name])))
    }

    func withSimulator(
        _ simulator: GitHubSimulator? = nil,
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withSimulators([simulator ?? GitHubSimulator(now: clock.dateProvider)], body)
    }

    func post(
        _ client: any TestClientProtocol,
        _ body: ByteBuffer,
        authorization: String? = "bearer interchange-demo-token",
        path: String = "/graphql"
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let authorization { headers[.authorization] = authorization }
        return try await client.execute(uri: path, method: .post, headers: headers, body: body)
    }

    @Test("the dashboard query returns every field of apple/swift-nio, as recorded")
    func acceptance() async throws {
        let query = try query
        let recordedText = String(decoding: try fixture("github/repository-apple-swift-nio.json"), as: UTF8.self)
        let recorded = try JSONDecoder().decode(GitHub.DashboardResponse.self, from: Data(recordedText.utf8))
        try await withSimulator { client in
            // The fixture's request body, byte for byte.
            let response = try await post(client, ByteBuffer(bytes: try fixture("github/repository-request.json")))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            #expect(response.headers[.server] == "GitHub.com")
            let dashboard = try response.decode(GitHub.DashboardResponse.self)
            #expect(dashboard.data.repository == recorded.data.repository)
            // Same members, same order, same formatting up to the rate limit (whose numbers depend on the budget).
            let simulatedPrefix = response.text.components(separatedBy: #","rateLimit":"#)[0]
            let recordedPrefix = minified(recordedText).components(separatedBy: #","rateLimit":"#)[0]
            #expect(simulatedPrefix == recordedPrefix)
            #expect(dashboard.data.rateLimit == GitHub.RateLimit(cost: 1, limit: 5_000, remaining: 4_999, resetAt: "2025-03-20T19:27:56Z", used: 1))
            try expectSameShape(response.data, as: fixture("github/repository-apple-swift-nio.json"))

            let again = try await post(client, request(query))
            #expect(try again.decode(GitHub.DashboardResponse.self).data.repository == recorded.data.repository)
        }
    }

    @Test("every response carries GitHub's rate-limit headers, and rateLimit reports the budget")
    func rateLimitHeaders() async throws {
        let query = try query
        try await withSimulator { client in
            let first = try await post(client, request(query))
            #expect(first.header("x-ratelimit-limit") == "5000")
            #expect(first.header("x-ratelimit-remaining") == "4999")
            #expect(first.header("x-ratelimit-used") == "1")
            #expect(first.header("x-ratelimit-reset") == "\(Int(fixtureTime.timeIntervalSince1970) + 3_600)")
            #expect(first.header("x-ratelimit-resource") == "graphql")
            #expect(first.header("X-GitHub-Media-Type") == "github.v3; format=json")
            #expect(first.header("X-GitHub-Request-Id")?.split(separator: ":").map(\.count) == [4, 4, 7, 7, 8])
            clock.advance(by: .seconds(60))
            let second = try await post(client, request("{ rateLimit { cost limit remaining resetAt used } }"))
            #expect(second.header("x-ratelimit-remaining") == "4998")
            #expect(second.header("x-ratelimit-reset") == first.header("x-ratelimit-reset"), "the window does not move")
            #expect(second.text == #"{"data":{"rateLimit":{"cost":1,"limit":5000,"remaining":4998,"resetAt":"2025-03-20T19:27:56Z","used":2}}}"#)
        }
    }

    @Test("when the budget is spent: HTTP 200, the RATE_LIMIT error, remaining 0; a new window refills it")
    func exhaustion() async throws {
        let query = try query
        let simulator = GitHubSimulator(rateLimitPerHour: 3, now: clock.dateProvider)
        try await withSimulator(simulator) { client in
            for remaining in ["2", "1", "0"] {
                let response = try await post(client, request(query))
                #expect(response.status == .ok && response.header("x-ratelimit-remaining") == remaining)
                #expect(try response.decode(GitHub.DashboardResponse.self).data.repository?.name == "swift-nio")
            }
            let limited = try await post(client, request(query))
            #expect(limited.status == .ok)
            #expect(limited.header("x-ratelimit-remaining") == "0")
            #expect(limited.header("x-ratelimit-used") == "3")
            #expect(limited.header("x-ratelimit-limit") == "3")
            let recorded = String(decoding: try fixture("github/error-rate-limited.json"), as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            let lastWord = limited.text.split(separator: " ").last.map(String.init) ?? ""
            let userID = lastWord.filter { $0.isNumber }
            #expect(limited.text == recorded.replacingOccurrences(of: "1234567", with: userID))
            let errors = try limited.decode(GitHub.ErrorsOnly.self)
            #expect(errors.errors.first?.type == "RATE_LIMIT" && errors.errors.first?.code == "graphql_rate_limit")

            clock.advance(by: .seconds(3_601))
            let refilled = try await post(client, request(query))
            #expect(refilled.header("x-ratelimit-remaining") == "2")
        }
        let legacy = GitHubSimulator(rateLimitPerHour: 1, rateLimitErrorShape: .legacy, now: clock.dateProvider)
        try await withSimulator(legacy) { client in
            _ = try await post(client, request(query))
            let limited = try await post(client, request(query))
            let error = try #require(try limited.decode(GitHub.ErrorsOnly.self).errors.first)
            #expect(error.type == "RATE_LIMITED" && error.message.hasPrefix("API rate limit exceeded for user ID "))
        }
    }

    @Test("budgets are per token")
    func perToken() async throws {
        let simulator = GitHubSimulator(tokens: ["a", "b"], rateLimitPerHour: 1, now: clock.dateProvider)
        try await withSimulator(simulator) { client in
            let a = try await post(client, request("{ viewer { login } }"), authorization: "bearer a")
            #expect(a.text == #"{"data":{"viewer":{"login":"interchange-demo"}}}"#)
            let aAgain = try await post(client, request("{ viewer { login } }"), authorization: "bearer a")
            #expect(aAgain.text.contains("RATE_LIMIT"))
            let b = try await post(client, request("{ viewer { login } }"), authorization: "Bearer b")
            #expect(b.header("x-ratelimit-remaining") == "0" && b.text.contains("interchange-demo"))
        }
    }

    @Test("an unknown repository is HTTP 200 with repository null and GitHub's NOT_FOUND error")
    func notFound() async throws {
        let query = try query
        try await withSimulator { client in
            let response = try await post(client, request(query, owner: "x", name: "y"))
            #expect(response.status == .ok)
            let recorded = String(decoding: try fixture("github/error-not-found.json"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            // Identical but for the rate-limit numbers.
            let errors = { (text: String) in text.components(separatedBy: #","errors":"#).last }
            #expect(errors(response.text) == errors(recorded))
            #expect(response.text.hasPrefix(#"{"data":{"repository":null,"rateLimit":{"cost":1,"limit":5000,"#))
            let atlantis = try await post(client, request(query, owner: "atlantis", name: "atlantis"))
            #expect(atlantis.text.contains("Could not resolve to a Repository with the name 'atlantis/atlantis'."))
        }
    }

    @Test("invalid queries are HTTP 200 with errors and locations, and no data")
    func validation() async throws {
        let query = try query
        try await withSimulator { client in
            // The fixture's case: an extra `foo` on line 3 of the dashboard query.
            var lines = query.components(separatedBy: "\n")
            lines.insert("    foo", at: 2)
            let response = try await post(client, request(lines.joined(separator: "\n")))
            #expect(response.status == .ok)
            #expect(response.data == (try fixture("github/error-validation.json")).trimmingTrailingNewline)
            #expect(response.header("x-ratelimit-remaining") == "5000", "invalid queries are not charged")

            let anonymous = try await post(client, request("{ repository(owner: \"a\", name: \"b\") { name bar } }"))
            let error = try #require(try anonymous.decode(GitHub.ErrorsOnly.self).errors.first)
            #expect(error.path == ["query", "repository", "bar"])

            let syntax = try await post(client, request("query { repository(owner: \"a\" "))
            #expect(syntax.status == .ok && !syntax.text.contains(#""data""#))
            let syntaxError = try #require(try syntax.decode(GitHub.ErrorsOnly.self).errors.first)
            #expect(syntaxError.locations?.isEmpty == false && syntaxError.message.hasPrefix("Syntax Error"))

            let argument = try await post(client, request("{ repository(owner: \"a\", name: \"b\", color: 1) { name } }"))
            let argumentError = try #require(try argument.decode(GitHub.ErrorsOnly.self).errors.first)
            #expect(argumentError.message == "Field 'repository' doesn't accept argument 'color'")
            #expect(argumentError.extensions?["code"] == "argumentNotAccepted")

            let missing = try await post(client, request("{ repository(owner: \"a\") { name } }"))
            let missingError = try #require(try missing.decode(GitHub.ErrorsOnly.self).errors.first)
            #expect(missingError.message == "Field 'repository' is missing required arguments: name")

            let noQuery = try await post(client, ByteBuffer(string: #"{"variables":{}}"#))
            #expect(noQuery.status == .ok && noQuery.text == #"{"errors":[{"message":"A query attribute must be specified and must be a string."}]}"#)
        }
    }

    @Test("a missing token, a wrong token and a body that is not JSON get GitHub's bodies")
    func authentication() async throws {
        let query = try query
        try await withSimulator { client in
            let missing = try await post(client, request(query), authorization: nil)
            #expect(missing.status == .unauthorized)
            #expect(missing.data == (try fixture("github/error-unauthenticated.json")).trimmingTrailingNewline)
            let wrong = try await post(client, request(query), authorization: "bearer nope")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.data == (try fixture("github/error-bad-credentials.json")).trimmingTrailingNewline)
            #expect(try await post(client, request(query), authorization: "Basic abc").status == .unauthorized)
            for scheme in ["bearer", "Bearer", "BEARER", "token"] {
                let accepted = try await post(client, request(query), authorization: "\(scheme) \(token)")
                #expect(accepted.status == .ok, "\(scheme)")
            }
            let garbage = try await post(client, ByteBuffer(string: "{not json"))
            #expect(garbage.status == .badRequest)
            #expect(garbage.data == (try fixture("github/error-problems-parsing-json.json")).trimmingTrailingNewline)
        }
    }

    @Test("every repository resolves, case-insensitively, with its nullable parts null where GitHub's are")
    func repositories() async throws {
        #expect(GitHubSimulator.repositoryNames.count >= 10)
        for required in ["apple/swift-nio", "swift-server/async-http-client", "hummingbird-project/hummingbird", "vapor/vapor", "apple/swift"] {
            #expect(GitHubSimulator.repositoryNames.contains(required))
        }
        let query = try query
        try await withSimulator { client in
            for nameWithOwner in GitHubSimulator.repositoryNames {
                let parts = nameWithOwner.split(separator: "/").map(String.init)
                let response = try await post(client, request(query, owner: parts[0].uppercased(), name: parts[1]))
                let repository = try #require(try response.decode(GitHub.DashboardResponse.self).data.repository, "\(nameWithOwner)")
                #expect(repository.nameWithOwner == nameWithOwner)
                #expect(repository.url == "https://github.com/\(nameWithOwner)")
                #expect(repository.languages.totalSize == repository.languages.edges.reduce(0) { $0 + $1.size })
                #expect(repository.languages.edges.map(\.size) == repository.languages.edges.map(\.size).sorted(by: >))
                #expect(repository.primaryLanguage == repository.languages.edges.first?.node)
                let commits = repository.defaultBranchRef?.target?.history.nodes ?? []
                #expect(commits.allSatisfy { $0.oid.count == 40 && $0.oid.allSatisfy(\.isHexDigit) && $0.url.hasSuffix($0.oid) })
                #expect(commits.map(\.committedDate) == commits.map(\.committedDate).sorted(by: >), "newest first")
            }
            let hello = try await post(client, request(query, owner: "octocat", name: "Hello-World")).decode(GitHub.DashboardResponse.self)
            #expect(hello.data.repository?.primaryLanguage == nil && hello.data.repository?.latestRelease == nil)
            #expect(hello.data.repository?.defaultBranchRef?.name == "master")
            let empty = try await post(client, request(query, owner: "interchange-demo", name: "empty-repository")).decode(
                GitHub.DashboardResponse.self
            )
            #expect(empty.data.repository?.defaultBranchRef == nil && empty.data.repository?.description == nil)
        }
    }

    @Test("arguments work: issue and pull request states, language order and count, history length")
    func arguments() async throws {
        try await withSimulator { client in
            let response = try await post(
                client,
                request(
                    """
                    query($owner: String!, $name: String!) {
                      repository(owner: $owner, name: $name) {
                        open: issues(states: [OPEN]) { totalCount }
                        all: issues { totalCount }
                        merged: pullRequests(states: [MERGED]) { totalCount }
                        languages(first: 2, orderBy: {field: SIZE, direction: ASC}) { totalCount totalSize edges { size node { name } } }
                        defaultBranchRef { target { oid ... on Commit { history(first: 12) { totalCount nodes { oid } } } } }
                      }
                    }
                    """
                )
            )
            #expect(response.status == .ok)
            #expect(response.text.contains(#""open":{"totalCount":232},"all":{"totalCount":1267},"merged":{"totalCount":2381}"#))
            #expect(
                response.text.contains(
                    #""languages":{"totalCount":5,"totalSize":8213610,"edges":[{"size":3167,"node":{"name":"Dockerfile"}},{"size":9904"#
                )
            )
            #expect(
                response.text.contains(
                    #""target":{"oid":"5619336f030b68308b3a8fa4cf5e92bcca660926","history":{"totalCount":30,"nodes":[{"oid":"5619336f"#
                )
            )
            #expect(response.text.components(separatedBy: #"{"oid":"#).count - 1 == 1 + 12, "the target and 12 history nodes")

            let tooMany = try await post(client, request("{ repository(owner: \"apple\", name: \"swift\") { languages(first: 101) { totalSize } } }"))
            let error = try #require(try tooMany.decode(GitHub.ErrorsOnly.self).errors.first)
            #expect(error.type == "EXCESSIVE_PAGINATION" && error.path == ["repository", "languages"])

            let introspection = try await post(client, request("{ __type(name: \"Commit\") { interfaces { name } } }"))
            #expect(introspection.text == #"{"data":{"__type":{"interfaces":[{"name":"GitObject"}]}}}"#)
        }
    }
}
