import Foundation
import HTTPIntegration
import HTTPTypes
import InterchangeCore

/// The GitHub GraphQL API: one query per repository card, asking only for the fields the card shows.
///
/// Variables carry the owner and name (never string interpolation into the query). The `errors` array is read:
/// `NOT_FOUND` means no such repository; `RATE_LIMITED` (and its newer spelling `RATE_LIMIT`) means the budget is
/// spent until `x-ratelimit-reset`; other errors alongside data give a partial card. `rateLimit { cost remaining
/// resetAt }` is surfaced on every card. The token is added by the client's authentication policy.
struct GitHubClient: Sendable {
    let upstream: Upstream
    let isSimulated: Bool

    static let query = """
        query RepositoryCard($owner: String!, $name: String!) {
          repository(owner: $owner, name: $name) {
            nameWithOwner
            description
            url
            stargazerCount
            forkCount
            issues(states: [OPEN]) { totalCount }
            pullRequests(states: [OPEN]) { totalCount }
            primaryLanguage { name color }
            languages(first: 10, orderBy: {field: SIZE, direction: DESC}) {
              totalSize
              edges { size node { name color } }
            }
            latestRelease { name tagName publishedAt url }
            defaultBranchRef {
              target {
                ... on Commit {
                  history(first: 5) {
                    nodes { oid messageHeadline committedDate url author { name user { login } } }
                  }
                }
              }
            }
          }
          rateLimit { cost remaining resetAt }
        }
        """

    func repository(owner: String, name: String) async throws -> RepositoryCard {
        let response: ClientResponse
        do {
            var request = upstream.request(.post, "/graphql")
            try request.setJSONBody(Request(query: Self.query, variables: ["owner": owner, "name": name]))
            // A GraphQL query is a read: safe to retry even though it is a POST.
            request.options.idempotent = true
            response = try await upstream.client.send(request)
        } catch {
            throw UpstreamFailure.from(error)
        }
        let resetHeader = response.headerFields[HTTPField.Name("x-ratelimit-reset")!].flatMap(Double.init).map(Date.init(timeIntervalSince1970:))
        if response.status == .forbidden || response.status == .tooManyRequests,
            response.headerFields[HTTPField.Name("x-ratelimit-remaining")!] == "0"
        {
            throw UpstreamFailure.rateLimited(retryAfter: nil, resetAt: resetHeader)
        }
        do {
            try response.ensureSuccess()
        } catch {
            throw UpstreamFailure.from(error)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let body: Response
        do {
            body = try response.decode(Response.self, using: decoder)
        } catch {
            throw UpstreamFailure.from(error)
        }
        let errors = body.errors ?? []
        if errors.contains(where: { $0.type == "RATE_LIMITED" || $0.type == "RATE_LIMIT" }) {
            throw UpstreamFailure.rateLimited(retryAfter: nil, resetAt: resetHeader ?? body.data?.rateLimit?.resetAt)
        }
        guard let repository = body.data?.repository else {
            if errors.contains(where: { $0.type == "NOT_FOUND" }) { throw UpstreamFailure.notFound }
            let message = errors.first?.message ?? "the response has no repository"
            throw UpstreamFailure.badGateway(reason: "GitHub: \(message)")
        }
        return Self.card(repository, rateLimit: body.data?.rateLimit)
    }

    static func card(_ repository: Response.Repository, rateLimit: Response.RateLimit?) -> RepositoryCard {
        let total = Double(max(repository.languages?.totalSize ?? 0, 1))
        return RepositoryCard(
            nameWithOwner: repository.nameWithOwner,
            description: repository.description,
            url: repository.url,
            stars: repository.stargazerCount,
            forks: repository.forkCount,
            openIssues: repository.issues.totalCount,
            openPullRequests: repository.pullRequests.totalCount,
            primaryLanguage: repository.primaryLanguage.map { .init(name: $0.name, color: $0.color, percent: 0) },
            languages: (repository.languages?.edges ?? []).map { edge in
                .init(name: edge.node.name, color: edge.node.color, percent: (Double(edge.size) / total * 1000).rounded() / 10)
            },
            latestRelease: repository.latestRelease.map { .init(name: $0.name, tagName: $0.tagName, publishedAt: $0.publishedAt, url: $0.url) },
            recentCommits: (repository.defaultBranchRef?.target?.history?.nodes ?? []).map { commit in
                .init(
                    oid: String(commit.oid.prefix(7)),
                    message: commit.messageHeadline,
                    author: commit.author?.user?.login ?? commit.author?.name,
                    committedAt: commit.committedDate,
                    url: commit.url
                )
            },
            rateLimit: rateLimit.map { .init(cost: $0.cost, remaining: $0.remaining, resetAt: $0.resetAt) }
        )
    }

    struct Request: Encodable {
        let query: String
        let variables: [String: String]
    }

    struct Response: Decodable {
        struct GraphQLError: Decodable {
            let type: String?
            let message: String
        }
        struct RateLimit: Decodable {
            let cost: Int?
            let remaining: Int
            let resetAt: Date
        }
        struct Count: Decodable { let totalCount: Int }
        struct Language: Decodable {
            let name: String
            let color: String?
        }
        struct Languages: Decodable {
            struct Edge: Decodable {
                let size: Int
                let node: Language
            }
            let totalSize: Int
            let edges: [Edge]
        }
        struct Release: Decodable {
            let name: String?
            let tagName: String
            let publishedAt: Date
            let url: String?
        }
        struct Commit: Decodable {
            struct Author: Decodable {
                struct User: Decodable { let login: String }
                let name: String?
                let user: User?
            }
            let oid: String
            let messageHeadline: String
            let committedDate: Date
            let url: String?
            let author: Author?
        }
        struct Ref: Decodable {
            struct Target: Decodable {
                struct History: Decodable { let nodes: [Commit] }
                let history: History?
            }
            let target: Target?
        }
        struct Repository: Decodable {
            let nameWithOwner: String
            let description: String?
            let url: String
            let stargazerCount: Int
            let forkCount: Int
            let issues: Count
            let pullRequests: Count
            let primaryLanguage: Language?
            let languages: Languages?
            let latestRelease: Release?
            let defaultBranchRef: Ref?
        }
        struct DataField: Decodable {
            let repository: Repository?
            let rateLimit: RateLimit?
        }
        let data: DataField?
        let errors: [GraphQLError]?
    }
}
