import Foundation
import Graphiti
import InterchangeCore

// The subset of GitHub's GraphQL schema the simulator serves, with GitHub's type, field, enum and argument
// names. Swift types are prefixed (`GitHubRepository`) and registered under GitHub's names (`Repository`).

// MARK: Scalars

/// A GitHub scalar carried as a JSON string (`DateTime`, `URI`, `GitObjectID`).
protocol GitHubStringScalar: Codable, Sendable, Hashable {
    var text: String { get }
    init(_ text: String)
}

extension GitHubStringScalar {
    init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// GitHub's `DateTime`: an ISO-8601 string such as `2025-03-20T19:02:11Z`.
struct GitHubDateTime: GitHubStringScalar {
    var text: String

    init(_ text: String) { self.text = text }
    init(_ date: Date) { text = CivilTime(date).iso8601String }
}

/// GitHub's `URI`.
struct GitHubURI: GitHubStringScalar {
    var text: String

    init(_ text: String) { self.text = text }
}

/// GitHub's `GitObjectID`: 40 hex digits.
struct GitHubObjectID: GitHubStringScalar {
    var text: String

    init(_ text: String) { self.text = text }
}

// MARK: Enums and inputs

enum GitHubIssueState: String, Codable, Sendable, CaseIterable {
    case open = "OPEN"
    case closed = "CLOSED"
}

enum GitHubPullRequestState: String, Codable, Sendable, CaseIterable {
    case open = "OPEN"
    case closed = "CLOSED"
    case merged = "MERGED"
}

enum GitHubLanguageOrderField: String, Codable, Sendable {
    case size = "SIZE"
}

enum GitHubOrderDirection: String, Codable, Sendable {
    case ascending = "ASC"
    case descending = "DESC"
}

struct GitHubLanguageOrder: Codable, Sendable {
    var field: GitHubLanguageOrderField
    var direction: GitHubOrderDirection
}

// MARK: Objects

struct GitHubUser: Sendable, Hashable {
    var login: String
    var name: String?
    var url: GitHubURI { GitHubURI("https://github.com/\(login)") }
}

struct GitHubGitActor: Sendable, Hashable {
    var name: String?
    var email: String?
    var date: GitHubDateTime?
    var user: GitHubUser?
}

struct GitHubLanguage: Sendable, Hashable {
    var name: String
    var color: String?
}

struct GitHubLanguageEdge: Sendable {
    var size: Int
    var node: GitHubLanguage
}

struct GitHubLanguageConnection: Sendable {
    var totalCount: Int
    var totalSize: Int
    var edges: [GitHubLanguageEdge]
    var nodes: [GitHubLanguage] { edges.map(\.node) }
}

struct GitHubIssueConnection: Sendable {
    var totalCount: Int
}

struct GitHubPullRequestConnection: Sendable {
    var totalCount: Int
}

struct GitHubRelease: Sendable {
    var name: String?
    var tagName: String
    var publishedAt: GitHubDateTime?
    var url: GitHubURI
}

/// GitHub's `GitObject` interface; `Commit` is the only implementation served.
protocol GitHubGitObject: Sendable {
    var oid: GitHubObjectID { get }
    var abbreviatedOid: String { get }
    var commitUrl: GitHubURI { get }
}

/// One commit of a repository's default branch, recorded as plain data.
struct GitHubCommitRecord: Sendable, Hashable {
    var oid: String
    var messageHeadline: String
    var committedDate: String
    var authorName: String
    var authorEmail: String
    /// `nil` when the author's e-mail is not linked to an account (and for bots such as dependabot[bot]).
    var authorLogin: String?
}

/// A default branch's commits, newest first, shared by every `Commit` on it (so `history` can walk back).
final class GitHubCommitLog: Sendable {
    let nameWithOwner: String
    let records: [GitHubCommitRecord]

    init(nameWithOwner: String, records: [GitHubCommitRecord]) {
        self.nameWithOwner = nameWithOwner
        self.records = records
    }
}

struct GitHubCommit: GitHubGitObject {
    let log: GitHubCommitLog
    let position: Int

    private var record: GitHubCommitRecord { log.records[position] }
    var oid: GitHubObjectID { GitHubObjectID(record.oid) }
    var abbreviatedOid: String { String(record.oid.prefix(7)) }
    var messageHeadline: String { record.messageHeadline }
    var committedDate: GitHubDateTime { GitHubDateTime(record.committedDate) }
    var url: GitHubURI { GitHubURI("https://github.com/\(log.nameWithOwner)/commit/\(record.oid)") }
    var commitUrl: GitHubURI { url }
    var author: GitHubGitActor? {
        GitHubGitActor(
            name: record.authorName,
            email: record.authorEmail,
            date: committedDate,
            user: record.authorLogin.map { GitHubUser(login: $0) }
        )
    }

    struct HistoryArguments: Codable, Sendable {
        var first: Int?
    }

    /// This commit and its ancestors, newest first.
    func history(context: GitHubGraphQLContext, arguments: HistoryArguments) throws -> GitHubCommitHistoryConnection {
        let first = try GitHubResolverError.checkPagination(arguments.first, connection: "history")
        let end = min(log.records.count, position + first)
        return GitHubCommitHistoryConnection(
            totalCount: log.records.count - position,
            nodes: (position..<end).map { GitHubCommit(log: log, position: $0) }
        )
    }
}

struct GitHubCommitHistoryConnection: Sendable {
    var totalCount: Int
    var nodes: [GitHubCommit]
}

struct GitHubRef: Sendable {
    var name: String
    var prefix: String { "refs/heads/" }
    var target: (any GitHubGitObject)?
}

struct GitHubRateLimit: Sendable {
    var cost: Int
    var limit: Int
    var remaining: Int
    var resetAt: GitHubDateTime
    var used: Int
    var nodeCount: Int
}

struct GitHubRepository: Sendable {
    var owner: String
    var name: String
    var description: String?
    var stargazerCount: Int
    var forkCount: Int
    var issueCounts: [GitHubIssueState: Int]
    var pullRequestCounts: [GitHubPullRequestState: Int]
    /// Largest first, as GitHub reports them.
    var languageSizes: [(language: GitHubLanguage, size: Int)]
    var latestRelease: GitHubRelease?
    var defaultBranch: String?
    var commits: GitHubCommitLog
    var createdAt: GitHubDateTime
    var isArchived: Bool

    var nameWithOwner: String { "\(owner)/\(name)" }
    var url: GitHubURI { GitHubURI("https://github.com/\(nameWithOwner)") }
    var primaryLanguage: GitHubLanguage? { languageSizes.first?.language }
    var defaultBranchRef: GitHubRef? {
        defaultBranch.map { GitHubRef(name: $0, target: commits.records.isEmpty ? nil : GitHubCommit(log: commits, position: 0)) }
    }

    struct IssuesArguments: Codable, Sendable {
        var states: [GitHubIssueState]?
    }

    func issues(context: GitHubGraphQLContext, arguments: IssuesArguments) -> GitHubIssueConnection {
        let states = Set(arguments.states ?? GitHubIssueState.allCases)
        return GitHubIssueConnection(totalCount: states.reduce(0) { $0 + issueCounts[$1, default: 0] })
    }

    struct PullRequestsArguments: Codable, Sendable {
        var states: [GitHubPullRequestState]?
    }

    func pullRequests(context: GitHubGraphQLContext, arguments: PullRequestsArguments) -> GitHubPullRequestConnection {
        let states = Set(arguments.states ?? GitHubPullRequestState.allCases)
        return GitHubPullRequestConnection(totalCount: states.reduce(0) { $0 + pullRequestCounts[$1, default: 0] })
    }

    struct LanguagesArguments: Codable, Sendable {
        var first: Int?
        var orderBy: GitHubLanguageOrder?
    }

    func languages(context: GitHubGraphQLContext, arguments: LanguagesArguments) throws -> GitHubLanguageConnection {
        let first = try GitHubResolverError.checkPagination(arguments.first, connection: "languages")
        var edges = languageSizes.map { GitHubLanguageEdge(size: $0.size, node: $0.language) }
        if let order = arguments.orderBy {
            edges.sort { order.direction == .ascending ? $0.size < $1.size : $0.size > $1.size }
        }
        return GitHubLanguageConnection(
            totalCount: languageSizes.count,
            totalSize: languageSizes.reduce(0) { $0 + $1.size },
            edges: Array(edges.prefix(first))
        )
    }
}

// MARK: Context and root resolver

/// What every resolver of one GraphQL request sees: the caller and its rate-limit budget after this query.
struct GitHubGraphQLContext: Sendable {
    var viewer: GitHubUser
    var rateLimit: GitHubRateLimit
}

/// An error a resolver throws that GitHub reports with a `type` (`NOT_FOUND`, `EXCESSIVE_PAGINATION`).
struct GitHubResolverError: Error, CustomStringConvertible {
    var type: String
    var message: String
    var description: String { message }

    /// GitHub's connection limits: `first` between 0 and 100 (absent means 100 here).
    static func checkPagination(_ first: Int?, connection: String) throws -> Int {
        guard let first else { return 100 }
        if first > 100 {
            throw GitHubResolverError(
                type: "EXCESSIVE_PAGINATION",
                message: "Requesting \(first) records on the `\(connection)` connection exceeds the `first` limit of 100 records."
            )
        }
        if first < 0 {
            throw GitHubResolverError(type: "INVALID_PAGINATION", message: "`first` on the `\(connection)` connection cannot be less than zero.")
        }
        return first
    }
}

struct GitHubQueryResolver: Sendable {
    /// Repositories by lowercased `owner/name` (GitHub resolves names case-insensitively).
    let repositories: [String: GitHubRepository]

    struct RepositoryArguments: Codable, Sendable {
        var owner: String
        var name: String
    }

    func repository(context: GitHubGraphQLContext, arguments: RepositoryArguments) throws -> GitHubRepository? {
        guard let repository = repositories["\(arguments.owner)/\(arguments.name)".lowercased()] else {
            throw GitHubResolverError(
                type: "NOT_FOUND",
                message: "Could not resolve to a Repository with the name '\(arguments.owner)/\(arguments.name)'."
            )
        }
        return repository
    }

    func rateLimit(context: GitHubGraphQLContext, arguments: NoArguments) -> GitHubRateLimit {
        context.rateLimit
    }

    func viewer(context: GitHubGraphQLContext, arguments: NoArguments) -> GitHubUser {
        context.viewer
    }
}

// MARK: Schema

enum GitHubSchema {
    static func make() throws -> Schema<GitHubQueryResolver, GitHubGraphQLContext> {
        try Schema<GitHubQueryResolver, GitHubGraphQLContext> {
            Scalar(GitHubDateTime.self, as: "DateTime")
                .description("An ISO-8601 encoded UTC date string.")
            Scalar(GitHubURI.self, as: "URI")
                .description("An RFC 3986, RFC 3987, and RFC 6570 (level 4) compliant URI string.")
            Scalar(GitHubObjectID.self, as: "GitObjectID")
                .description("A Git object ID.")

            Enum(GitHubIssueState.self, as: "IssueState") {
                Value(.open)
                Value(.closed)
            }
            Enum(GitHubPullRequestState.self, as: "PullRequestState") {
                Value(.open)
                Value(.closed)
                Value(.merged)
            }
            Enum(GitHubLanguageOrderField.self, as: "LanguageOrderField") {
                Value(.size)
            }
            Enum(GitHubOrderDirection.self, as: "OrderDirection") {
                Value(.ascending)
                Value(.descending)
            }
            Input(GitHubLanguageOrder.self, as: "LanguageOrder") {
                InputField("field", at: \.field)
                InputField("direction", at: \.direction)
            }

            Type(GitHubUser.self, as: "User") {
                Field("login", at: \.login)
                Field("name", at: \.name)
                Field("url", at: \.url)
            }
            Type(GitHubGitActor.self, as: "GitActor") {
                Field("name", at: \.name)
                Field("email", at: \.email)
                Field("date", at: \.date)
                Field("user", at: \.user)
            }
            Type(GitHubLanguage.self, as: "Language") {
                Field("name", at: \.name)
                Field("color", at: \.color)
            }
            Type(GitHubLanguageEdge.self, as: "LanguageEdge") {
                Field("size", at: \.size)
                Field("node", at: \.node)
            }
            Type(GitHubLanguageConnection.self, as: "LanguageConnection") {
                Field("totalCount", at: \.totalCount)
                Field("totalSize", at: \.totalSize)
                Field("edges", at: \.edges)
                Field("nodes", at: \.nodes)
            }
            Type(GitHubIssueConnection.self, as: "IssueConnection") {
                Field("totalCount", at: \.totalCount)
            }
            Type(GitHubPullRequestConnection.self, as: "PullRequestConnection") {
                Field("totalCount", at: \.totalCount)
            }
            Type(GitHubRelease.self, as: "Release") {
                Field("name", at: \.name)
                Field("tagName", at: \.tagName)
                Field("publishedAt", at: \.publishedAt)
                Field("url", at: \.url)
            }

            Interface(GitHubGitObject.self, as: "GitObject") {
                Field("oid", at: \.oid)
                Field("abbreviatedOid", at: \.abbreviatedOid)
                Field("commitUrl", at: \.commitUrl)
            }
            Type(GitHubCommit.self, as: "Commit", interfaces: [GitHubGitObject.self]) {
                Field("oid", at: \.oid)
                Field("abbreviatedOid", at: \.abbreviatedOid)
                Field("commitUrl", at: \.commitUrl)
                Field("messageHeadline", at: \.messageHeadline)
                Field("committedDate", at: \.committedDate)
                Field("url", at: \.url)
                Field("author", at: \.author)
                Field("history", at: GitHubCommit.history) {
                    Argument("first", at: \.first)
                }
            }
            Type(GitHubCommitHistoryConnection.self, as: "CommitHistoryConnection") {
                Field("totalCount", at: \.totalCount)
                Field("nodes", at: \.nodes)
            }
            Type(GitHubRef.self, as: "Ref") {
                Field("name", at: \.name)
                Field("prefix", at: \.prefix)
                Field("target", at: \.target)
            }
            Type(GitHubRepository.self, as: "Repository") {
                Field("name", at: \.name)
                Field("nameWithOwner", at: \.nameWithOwner)
                Field("description", at: \.description)
                Field("url", at: \.url)
                Field("stargazerCount", at: \.stargazerCount)
                Field("forkCount", at: \.forkCount)
                Field("isArchived", at: \.isArchived)
                Field("createdAt", at: \.createdAt)
                Field("issues", at: GitHubRepository.issues) {
                    Argument("states", at: \.states)
                }
                Field("pullRequests", at: GitHubRepository.pullRequests) {
                    Argument("states", at: \.states)
                }
                Field("primaryLanguage", at: \.primaryLanguage)
                Field("languages", at: GitHubRepository.languages) {
                    Argument("first", at: \.first)
                    Argument("orderBy", at: \.orderBy)
                }
                Field("latestRelease", at: \.latestRelease)
                Field("defaultBranchRef", at: \.defaultBranchRef)
            }
            Type(GitHubRateLimit.self, as: "RateLimit") {
                Field("cost", at: \.cost)
                Field("limit", at: \.limit)
                Field("remaining", at: \.remaining)
                Field("resetAt", at: \.resetAt)
                Field("used", at: \.used)
                Field("nodeCount", at: \.nodeCount)
            }

            Query {
                Field("repository", at: GitHubQueryResolver.repository) {
                    Argument("owner", at: \.owner)
                    Argument("name", at: \.name)
                }
                Field("rateLimit", at: GitHubQueryResolver.rateLimit)
                Field("viewer", at: GitHubQueryResolver.viewer)
            }
        }
    }
}
