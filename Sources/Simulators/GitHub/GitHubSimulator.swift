import Foundation
import GraphQL
import HTTPTypes
import Hummingbird
import ServiceRuntime
import Synchronization

/// A simulator of the GitHub GraphQL API (`POST https://api.github.com/graphql`): a real GraphQL server
/// (Graphiti over GraphQLSwift) with a subset of GitHub's schema, GitHub's auth, error shapes and rate limits.
///
/// ```swift
/// let simulator = GitHubSimulator(basePath: "/sim/github", tokens: ["demo-token"])
/// // POST /sim/github/graphql  Authorization: bearer demo-token
/// // {"query":"query($owner:String!,$name:String!){repository(owner:$owner,name:$name){stargazerCount}}",
/// //  "variables":{"owner":"apple","name":"swift-nio"}}
/// ```
///
/// **Covers**
/// - `Query { repository(owner:name:), rateLimit, viewer }`; `Repository { name nameWithOwner description url
///   stargazerCount forkCount isArchived createdAt issues(states:) pullRequests(states:) primaryLanguage
///   languages(first:orderBy:) latestRelease defaultBranchRef }`; `Ref { name prefix target: GitObject }`;
///   `interface GitObject { oid abbreviatedOid commitUrl }` implemented by `Commit { … messageHeadline
///   committedDate url author: GitActor { name email date user { login name url } } history(first:) }`;
///   `Language`, `LanguageConnection { totalCount totalSize edges { size node } nodes }`,
///   `IssueConnection`/`PullRequestConnection { totalCount }`, `Release`, `RateLimit { cost limit remaining
///   resetAt used nodeCount }`; enums `IssueState`, `PullRequestState`, `LanguageOrderField`,
///   `OrderDirection`; input `LanguageOrder`; scalars `DateTime`, `URI`, `GitObjectID`. Introspection works.
/// - Repositories (``repositoryNames``): `apple/swift-nio` with the fixture's values, and ten more with
///   illustrative data; names resolve case-insensitively. Unknown → HTTP 200, `repository: null` and a
///   `NOT_FOUND` error (`type, path, locations, message`); other root fields still resolve.
/// - Auth: `Authorization: bearer <token>` or `token <token>` (scheme case-insensitive). No header → 401
///   "This endpoint requires you to be authenticated."; an unknown token → 401 "Bad credentials".
/// - A body that is not a JSON object → 400 "Problems parsing JSON". No `query` → 200 with an error.
/// - Syntax and validation errors → 200 with `errors` (with `locations`) and no `data`. Unknown fields,
///   unknown arguments and missing arguments use GitHub's wording, `path` and `extensions.code`
///   (`undefinedField`, …); other messages are GraphQLSwift's.
/// - Rate limit: each executed query costs 1 point of a per-token budget (`rateLimitPerHour`, window opened by
///   the token's first request, measured on the injected clock). Every GraphQL answer (HTTP 200) carries
///   `x-ratelimit-limit/-remaining/-reset/-used/-resource: graphql`; `rateLimit` in the query reports the budget
///   after the query. When exhausted: HTTP 200, `{"errors":[{"type":"RATE_LIMIT","code":"graphql_rate_limit",
///   "message":"API rate limit already exceeded for user ID …"}]}` (or the legacy `RATE_LIMITED` shape),
///   `x-ratelimit-remaining: 0`. Queries that fail to parse or validate are not charged.
///
/// **Does not cover** mutations, subscriptions, the rest of GitHub's schema (owner, issues' nodes, search…),
/// cursors (`after`/`before`/`pageInfo`), node ids, query cost beyond 1 point, the secondary rate limits,
/// rate-limit headers on 401/400 responses (unverified upstream), or the REST API.
///
/// **Controls** (``SimulatorControls``, also at `GET/PUT <base>/_sim/control` and `POST <base>/_sim/reset`,
/// which also refills every token's budget): `latency`, `errorRate` and `outage` (503
/// `{"message":"Service Unavailable","documentation_url":…,"status":"503"}`), `rateLimited` (the rate-limited
/// answer above, after authentication), request counts by path (`/graphql`).
public struct GitHubSimulator: Component {
    /// Which body an exhausted budget gets.
    public enum RateLimitErrorShape: Sendable {
        /// `{"errors":[{"type":"RATE_LIMIT","code":"graphql_rate_limit","message":"API rate limit already exceeded for user ID …"}]}`
        case current
        /// `{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID …"}]}` (before 2026)
        case legacy
    }

    public let name = "github-sim"
    public var summary: String { "GitHub GraphQL API simulator at \(basePath)/graphql" }

    /// Where `/graphql` is mounted: `""` alone, `/sim/github` under `interchange up`.
    public let basePath: String
    /// The accepted tokens.
    public let tokens: Set<String>
    /// Points per token per hour (GitHub: 5000 for a user token).
    public let rateLimitPerHour: Int
    /// The login `viewer` returns, whatever the token.
    public let viewerLogin: String
    public let rateLimitErrorShape: RateLimitErrorShape
    public let controls: SimulatorControls
    let now: @Sendable () -> Date
    private let state: State

    /// The token accepted when none are configured.
    public static let defaultTokens = ["interchange-demo-token"]

    /// `owner/name` of every repository the simulator knows.
    public static var repositoryNames: [String] { GitHubRepositories.names }

    public init(
        basePath: String = "",
        tokens: [String] = GitHubSimulator.defaultTokens,
        rateLimitPerHour: Int = 5_000,
        viewerLogin: String = "interchange-demo",
        rateLimitErrorShape: RateLimitErrorShape = .current,
        now: @escaping @Sendable () -> Date = { Date() },
        controls: SimulatorControls = SimulatorControls()
    ) {
        self.basePath = normalizedBasePath(basePath)
        self.tokens = Set(tokens)
        self.rateLimitPerHour = rateLimitPerHour
        self.viewerLogin = viewerLogin
        self.rateLimitErrorShape = rateLimitErrorShape
        self.now = now
        self.controls = controls
        state = State(budget: GitHubRateLimitBudget(limit: rateLimitPerHour))
    }

    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        let schema = try Self.schema.get()
        let resolver = GitHubQueryResolver(repositories: GitHubRepositories.all)
        router.group(RouterPath(basePath))
            .add(middleware: SimulatorFaultMiddleware(controls: controls, basePath: basePath) { Self.unavailable() })
            .post("graphql") { request, _ in
                await self.respond(to: request, schema: schema.schema, resolver: resolver)
            }
        SimulatorControlRoutes.add(to: router, basePath: basePath, simulator: name, controls: controls) { [state] in
            state.budget.withLock { $0.reset() }
        }
    }

    /// Rate-limit budgets and a request counter (for `X-GitHub-Request-Id`), shared by the copies of the struct.
    private final class State: Sendable {
        let budget: Mutex<GitHubRateLimitBudget>
        let requests = Atomic<Int>(0)

        init(budget: GitHubRateLimitBudget) {
            self.budget = Mutex(budget)
        }
    }

    /// Built once: the schema is the same for every instance.
    private static let schema = Result { try GitHubSchema.make() }

    // MARK: Request handling

    private func respond(to request: Request, schema: GraphQLSchema, resolver: GitHubQueryResolver) async -> Response {
        guard let authorization = request.headers[.authorization], !authorization.trimmingCharacters(in: .whitespaces).isEmpty else {
            return Self.unauthenticated()
        }
        guard let token = Self.token(from: authorization), tokens.contains(token) else {
            return Self.badCredentials()
        }
        var request = request
        guard
            let body = try? await request.collectBody(upTo: 1 << 20),
            let payload = try? JSONDecoder().decode([String: Map].self, from: Data(buffer: body))
        else {
            return Self.problemsParsingJSON()
        }

        let now = now()
        let requestNumber = state.requests.wrappingAdd(1, ordering: .relaxed).newValue
        var snapshot = state.budget.withLock { $0.snapshot(token: token, now: now) }
        if controls.rateLimited || snapshot.remaining == 0 {
            snapshot.used = snapshot.limit
            return graphQLResponse(rateLimitedBody(token: token), snapshot: snapshot, requestNumber: requestNumber)
        }
        guard case .string(let query)? = payload["query"] else {
            return graphQLResponse(
                GitHubGraphQLResponse.message("A query attribute must be specified and must be a string."),
                snapshot: snapshot,
                requestNumber: requestNumber
            )
        }
        var variables: [String: Map] = [:]
        switch payload["variables"] {
        case nil, .null?, .undefined?: break
        case .dictionary(let members)?: for (key, value) in members { variables[key] = value }
        default:
            return graphQLResponse(GitHubGraphQLResponse.message("Variables are invalid JSON."), snapshot: snapshot, requestNumber: requestNumber)
        }

        let document: Document
        do {
            document = try parse(source: Source(body: query, name: "GraphQL request"))
        } catch let error as GraphQLError {
            return graphQLResponse(GitHubGraphQLResponse.syntaxError(error), snapshot: snapshot, requestNumber: requestNumber)
        } catch {
            return graphQLResponse(GitHubGraphQLResponse.message("\(error)"), snapshot: snapshot, requestNumber: requestNumber)
        }
        let problems = validate(schema: schema, ast: document)
        guard problems.isEmpty else {
            return graphQLResponse(GitHubGraphQLResponse.invalid(problems, document: document), snapshot: snapshot, requestNumber: requestNumber)
        }

        switch state.budget.withLock({ $0.charge(token: token, cost: 1, now: now) }) {
        case .exhausted(var exhausted):
            exhausted.used = exhausted.limit
            return graphQLResponse(rateLimitedBody(token: token), snapshot: exhausted, requestNumber: requestNumber)
        case .charged(let charged):
            snapshot = charged
        }
        let context = GitHubGraphQLContext(
            viewer: GitHubUser(login: viewerLogin, name: nil),
            rateLimit: GitHubRateLimit(
                cost: 1,
                limit: snapshot.limit,
                remaining: snapshot.remaining,
                resetAt: GitHubDateTime(snapshot.resetAt),
                used: snapshot.used,
                nodeCount: 0
            )
        )
        let result: GraphQLResult
        do {
            result = try await execute(
                schema: schema,
                documentAST: document,
                rootValue: resolver,
                context: context,
                variableValues: variables,
                operationName: payload["operationName"]?.string
            )
        } catch let error as GraphQLError {
            result = GraphQLResult(errors: [error])
        } catch {
            result = GraphQLResult(errors: [GraphQLError(message: "\(error)")])
        }
        return graphQLResponse(GitHubGraphQLResponse.executed(result, document: document), snapshot: snapshot, requestNumber: requestNumber)
    }

    /// The token of `bearer <token>` or `token <token>`, scheme case-insensitive.
    static func token(from authorization: String) -> String? {
        let parts = authorization.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
        guard parts.count == 2, ["bearer", "token"].contains(parts[0].lowercased()) else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// A deterministic user id for the rate-limit message.
    static func userID(for token: String) -> Int {
        StableHash(seed: 0).mixing(token).integer(in: 1_000_000...99_999_999)
    }

    private func rateLimitedBody(token: String) -> WireJSON {
        let id = Self.userID(for: token)
        let error: WireJSON =
            switch rateLimitErrorShape {
            case .current:
                .object([
                    ("type", .string("RATE_LIMIT")),
                    ("code", .string("graphql_rate_limit")),
                    ("message", .string("API rate limit already exceeded for user ID \(id).")),
                ])
            case .legacy:
                .object([("type", .string("RATE_LIMITED")), ("message", .string("API rate limit exceeded for user ID \(id)."))])
            }
        return .object([("errors", .array([error]))])
    }

    // MARK: Responses

    private func graphQLResponse(_ body: WireJSON, snapshot: GitHubRateLimitBudget.Snapshot, requestNumber: Int) -> Response {
        var headers = Self.baseHeaders
        headers[HTTPField.Name("X-GitHub-Media-Type")!] = "github.v3; format=json"
        headers[HTTPField.Name("X-GitHub-Request-Id")!] = Self.requestID(requestNumber)
        headers[HTTPField.Name("x-ratelimit-limit")!] = String(snapshot.limit)
        headers[HTTPField.Name("x-ratelimit-remaining")!] = String(snapshot.remaining)
        headers[HTTPField.Name("x-ratelimit-reset")!] = String(Int(snapshot.resetAt.timeIntervalSince1970))
        headers[HTTPField.Name("x-ratelimit-used")!] = String(snapshot.used)
        headers[HTTPField.Name("x-ratelimit-resource")!] = "graphql"
        return .wire(.ok, body, headers: headers)
    }

    /// `0403:094E:157B29B:29134A0:67DC5A2B`-shaped.
    static func requestID(_ number: Int) -> String {
        let hex = StableHash(seed: number).hex(30).uppercased()
        let characters = Array(hex)
        let groups = [4, 4, 7, 7, 8]
        var parts: [String] = []
        var index = 0
        for length in groups {
            parts.append(String(characters[index..<(index + length)]))
            index += length
        }
        return parts.joined(separator: ":")
    }

    static let baseHeaders: HTTPFields = [
        .server: "GitHub.com",
        .contentType: "application/json; charset=utf-8",
    ]

    static func unauthenticated() -> Response {
        .literal(
            .unauthorized,
            #"{"message":"This endpoint requires you to be authenticated.","documentation_url":"https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql","status":"401"}"#,
            headers: baseHeaders
        )
    }

    static func badCredentials() -> Response {
        .literal(
            .unauthorized,
            #"{"message":"Bad credentials","documentation_url":"https://docs.github.com/graphql","status":"401"}"#,
            headers: baseHeaders
        )
    }

    static func problemsParsingJSON() -> Response {
        .literal(
            .badRequest,
            #"{"message":"Problems parsing JSON","documentation_url":"https://docs.github.com/graphql","status":"400"}"#,
            headers: baseHeaders
        )
    }

    static func unavailable() -> Response {
        .literal(
            .serviceUnavailable,
            #"{"message":"Service Unavailable","documentation_url":"https://docs.github.com/graphql","status":"503"}"#,
            headers: baseHeaders
        )
    }
}
