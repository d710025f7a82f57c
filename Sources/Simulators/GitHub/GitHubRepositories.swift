import Foundation
import InterchangeCore

/// The repositories the GitHub simulator knows. `apple/swift-nio` carries the fixture's values
/// (`Tests/WeatherDashboardTests/Fixtures/github/repository-apple-swift-nio.json`); the others are plausible but
/// illustrative: counts, sizes, releases and commits are made up, commit oids are derived, not real.
enum GitHubRepositories {
    static let languageColors: [String: String] = [
        "Swift": "#F05138", "C": "#555555", "C++": "#f34b7d", "Shell": "#89e051", "Python": "#3572A5",
        "Dockerfile": "#384d54", "CMake": "#DA3434", "Objective-C": "#438eff", "HTML": "#e34c26",
        "Makefile": "#427819", "Ruby": "#701516", "JavaScript": "#f1e05a",
    ]

    /// Everything as GraphQL objects, keyed by lowercased `owner/name`.
    static let all: [String: GitHubRepository] = Dictionary(
        uniqueKeysWithValues: specifications.map { ($0.nameWithOwner.lowercased(), $0.repository) }
    )

    /// `owner/name` of every repository, in a stable order.
    static var names: [String] { specifications.map(\.nameWithOwner) }

    struct Specification: Sendable {
        var owner: String
        var name: String
        var description: String?
        var stars: Int
        var forks: Int
        var issues: (open: Int, closed: Int)
        var pullRequests: (open: Int, closed: Int, merged: Int)
        var languages: [(String, Int)]
        var release: (name: String?, tag: String, publishedAt: String)?
        var defaultBranch: String?
        var createdAt: String
        /// The newest commits, verbatim; older ones are generated up to `commitCount`.
        var recentCommits: [GitHubCommitRecord] = []
        var commitCount = 30
        /// Who writes the generated commits: name and login (`nil` for an unlinked e-mail).
        var authors: [(String, String?)] = []
        /// When the newest generated commit was made.
        var lastCommit = "2025-03-19T16:00:00Z"

        var nameWithOwner: String { "\(owner)/\(name)" }

        var repository: GitHubRepository {
            GitHubRepository(
                owner: owner,
                name: name,
                description: description,
                stargazerCount: stars,
                forkCount: forks,
                issueCounts: [.open: issues.open, .closed: issues.closed],
                pullRequestCounts: [.open: pullRequests.open, .closed: pullRequests.closed, .merged: pullRequests.merged],
                languageSizes: languages.sorted { $0.1 > $1.1 }.map {
                    (GitHubLanguage(name: $0.0, color: GitHubRepositories.languageColors[$0.0]), $0.1)
                },
                latestRelease: release.map {
                    GitHubRelease(
                        name: $0.name,
                        tagName: $0.tag,
                        publishedAt: GitHubDateTime($0.publishedAt),
                        url: GitHubURI("https://github.com/\(nameWithOwner)/releases/tag/\($0.tag)")
                    )
                },
                defaultBranch: defaultBranch,
                commits: GitHubCommitLog(nameWithOwner: nameWithOwner, records: defaultBranch == nil ? [] : commits),
                createdAt: GitHubDateTime(createdAt),
                isArchived: false
            )
        }

        /// `recentCommits`, then generated older ones: deterministic headlines, authors, dates and oids.
        var commits: [GitHubCommitRecord] {
            var records = recentCommits
            let seed = StableHash(seed: 0).mixing(nameWithOwner)
            var time = Self.epochSeconds(recentCommits.last?.committedDate ?? lastCommit)
            while records.count < commitCount, !authors.isEmpty {
                let index = records.count
                let hash = seed.mixing(index)
                // The newest generated commit is at `lastCommit`; each older one a few hours to days before.
                if !records.isEmpty { time -= hash.mixing("gap").integer(in: 3_600...(40 * 3_600)) }
                let (name, login) = authors[hash.mixing("author").integer(in: 0...(authors.count - 1))]
                let headline = Self.headlines[hash.mixing("headline").integer(in: 0...(Self.headlines.count - 1))]
                records.append(
                    GitHubCommitRecord(
                        oid: hash.mixing("oid").hex(40),
                        messageHeadline: headline,
                        committedDate: CivilTime(Date(timeIntervalSince1970: Double(time))).iso8601String,
                        authorName: name,
                        authorEmail: login.map { "\($0)@users.noreply.github.com" } ?? "\(name.lowercased().filter(\.isLetter))@example.com",
                        authorLogin: login
                    )
                )
            }
            return records
        }

        static let headlines = [
            "Fix a data race in the connection pool",
            "Update CI to the latest toolchains",
            "Add documentation for the public API",
            "Improve error messages when decoding fails",
            "Bump the github-actions group with 2 updates",
            "Remove deprecated API",
            "Add a benchmark for the hot path",
            "Fix flaky test on Linux",
            "Adopt strict concurrency checking",
            "Reduce allocations when writing headers",
            "Make the configuration Sendable",
            "Prepare the next release",
            "Add tests for cancellation",
            "Fix typo in README",
            "Support graceful shutdown",
            "Clean up unused imports",
            "Avoid a copy when reading the body",
            "Tidy up the changelog",
        ]

        static func epochSeconds(_ iso8601: String) -> Int {
            let digits = iso8601.split { !$0.isNumber }.compactMap { Int($0) }
            guard digits.count >= 6 else { return 0 }
            return CivilTime.days(year: digits[0], month: digits[1], day: digits[2]) * 86_400 + digits[3] * 3_600 + digits[4] * 60 + digits[5]
        }
    }

    static let specifications: [Specification] = [
        Specification(
            owner: "apple",
            name: "swift-nio",
            description: "Event-driven network application framework for high performance protocol servers & clients, non-blocking.",
            stars: 8_218,
            forks: 680,
            issues: (232, 1_035),
            pullRequests: (29, 412, 2_381),
            languages: [("Swift", 7_834_122), ("C", 301_886), ("Shell", 64_531), ("Python", 9_904), ("Dockerfile", 3_167)],
            release: ("2.81.0", "2.81.0", "2025-03-11T15:27:41Z"),
            defaultBranch: "main",
            createdAt: "2017-10-03T16:19:19Z",
            recentCommits: [
                GitHubCommitRecord(
                    oid: "5619336f030b68308b3a8fa4cf5e92bcca660926",
                    messageHeadline: "Avoid a copy when writing a ByteBuffer to a NIOAsyncChannel",
                    committedDate: "2025-03-20T14:41:07Z",
                    authorName: "George Barnett",
                    authorEmail: "gbarnett@apple.com",
                    authorLogin: "glbrntt"
                ),
                GitHubCommitRecord(
                    oid: "21774f0ee6a15e0dd3d01a9ee5fb7630f735a7e1",
                    messageHeadline: "Bump the github-actions group with 2 updates",
                    committedDate: "2025-03-19T09:12:55Z",
                    authorName: "dependabot[bot]",
                    authorEmail: "49699333+dependabot[bot]@users.noreply.github.com",
                    authorLogin: nil
                ),
                GitHubCommitRecord(
                    oid: "aa515c4ee6f5947bb4aab26e78480d32799e2a12",
                    messageHeadline: "Make NIOLoopBound Sendable-checked under strict concurrency",
                    committedDate: "2025-03-18T16:03:29Z",
                    authorName: "Cory Benfield",
                    authorEmail: "lukasa@apple.com",
                    authorLogin: "Lukasa"
                ),
                GitHubCommitRecord(
                    oid: "80635ad93a018f0a5d80160679d191c6667f11d0",
                    messageHeadline: "Add EventLoop.makeCompletedFuture(withResultOf:) overload",
                    committedDate: "2025-03-17T11:48:36Z",
                    authorName: "Franz Busch",
                    authorEmail: "f.busch@apple.com",
                    authorLogin: "FranzBusch"
                ),
                GitHubCommitRecord(
                    oid: "9ffcd48c4f856fb83a6eb4fb432638acd9cf3a02",
                    messageHeadline: "Fix flaky test in NIOPosixTests on Linux",
                    committedDate: "2025-03-14T10:20:18Z",
                    authorName: "Rick Newton-Rogers",
                    authorEmail: "rnro@apple.com",
                    authorLogin: "rnro"
                ),
            ],
            authors: [("George Barnett", "glbrntt"), ("Cory Benfield", "Lukasa"), ("Franz Busch", "FranzBusch"), ("Rick Newton-Rogers", "rnro")]
        ),
        Specification(
            owner: "apple",
            name: "swift",
            description: "The Swift Programming Language",
            stars: 68_940,
            forks: 10_460,
            issues: (7_482, 12_960),
            pullRequests: (912, 9_870, 61_240),
            languages: [
                ("C++", 34_120_512), ("Swift", 31_004_221), ("C", 2_410_770), ("Python", 1_902_311), ("CMake", 981_402),
                ("Shell", 310_118), ("Objective-C", 290_545),
            ],
            release: ("Swift 6.0.3 Release", "swift-6.0.3-RELEASE", "2024-12-11T19:15:30Z"),
            defaultBranch: "main",
            createdAt: "2015-10-23T21:15:07Z",
            authors: [
                ("Slava Pestov", "slavapestov"), ("Doug Gregor", "DougGregor"), ("Holly Borla", "hborla"), ("Pavel Yaskevich", "xedin"),
                ("Alex Hoppen", "ahoppen"),
            ],
            lastCommit: "2025-03-20T17:41:12Z"
        ),
        Specification(
            owner: "apple",
            name: "swift-log",
            description: "A Logging API for Swift",
            stars: 3_621,
            forks: 311,
            issues: (41, 103),
            pullRequests: (8, 61, 223),
            languages: [("Swift", 186_233), ("Shell", 9_021)],
            release: ("1.6.3", "1.6.3", "2025-03-10T10:02:44Z"),
            defaultBranch: "main",
            createdAt: "2018-12-20T11:21:42Z",
            authors: [("Konrad `ktoso` Malawski", "ktoso"), ("Franz Busch", "FranzBusch"), ("Si Beaumont", "simonjbeaumont")],
            lastCommit: "2025-03-12T08:30:00Z"
        ),
        Specification(
            owner: "apple",
            name: "swift-collections",
            description: "Commonly used data structures for Swift",
            stars: 3_914,
            forks: 341,
            issues: (62, 138),
            pullRequests: (19, 96, 301),
            languages: [("Swift", 2_901_554), ("C", 14_220), ("CMake", 11_308), ("Shell", 2_045)],
            release: ("Swift Collections 1.1.4", "1.1.4", "2024-09-24T18:04:31Z"),
            defaultBranch: "main",
            createdAt: "2021-03-23T16:38:52Z",
            authors: [("Karoy Lorentey", "lorentey"), ("Ben Cohen", "airspeedswift"), ("Nate Cook", "natecook1000")],
            lastCommit: "2025-03-18T21:10:00Z"
        ),
        Specification(
            owner: "swift-server",
            name: "async-http-client",
            description: "HTTP client library built on SwiftNIO",
            stars: 962,
            forks: 124,
            issues: (95, 241),
            pullRequests: (11, 103, 588),
            languages: [("Swift", 1_190_337), ("Shell", 6_512), ("Dockerfile", 1_207)],
            release: ("1.25.2", "1.25.2", "2025-03-05T13:44:09Z"),
            defaultBranch: "main",
            createdAt: "2019-05-28T09:03:11Z",
            authors: [("Cory Benfield", "Lukasa"), ("Fabian Fett", "fabianfett"), ("George Barnett", "glbrntt"), ("dependabot[bot]", nil)],
            lastCommit: "2025-03-17T14:05:00Z"
        ),
        Specification(
            owner: "swift-server",
            name: "swift-service-lifecycle",
            description: "Cooperative shutdown for server applications",
            stars: 421,
            forks: 44,
            issues: (9, 57),
            pullRequests: (2, 31, 142),
            languages: [("Swift", 210_440), ("Shell", 4_815)],
            release: ("2.6.3", "2.6.3", "2025-01-14T09:21:17Z"),
            defaultBranch: "main",
            createdAt: "2020-03-10T18:46:02Z",
            authors: [("Franz Busch", "FranzBusch"), ("Adam Fowler", "adam-fowler")],
            lastCommit: "2025-03-03T11:00:00Z"
        ),
        Specification(
            owner: "hummingbird-project",
            name: "hummingbird",
            description: "Lightweight, flexible HTTP server framework written in Swift",
            stars: 1_318,
            forks: 70,
            issues: (18, 154),
            pullRequests: (6, 48, 512),
            languages: [("Swift", 1_080_612), ("Shell", 5_733), ("Dockerfile", 612)],
            release: ("v2.11.1", "2.11.1", "2025-03-13T16:52:08Z"),
            defaultBranch: "main",
            createdAt: "2021-01-24T08:17:40Z",
            authors: [("Adam Fowler", "adam-fowler"), ("Joannis Orlandos", "Joannis"), ("dependabot[bot]", nil)],
            lastCommit: "2025-03-19T19:22:00Z"
        ),
        Specification(
            owner: "vapor",
            name: "vapor",
            description: "💧 A server-side Swift HTTP web framework.",
            stars: 24_905,
            forks: 1_468,
            issues: (98, 1_404),
            pullRequests: (14, 612, 1_690),
            languages: [("Swift", 1_610_244), ("Shell", 2_118), ("HTML", 1_893), ("Dockerfile", 702)],
            release: ("Vapor 4.114.1", "4.114.1", "2025-03-08T22:31:55Z"),
            defaultBranch: "main",
            createdAt: "2016-01-18T22:37:52Z",
            authors: [("Gwynne Raskind", "gwynne"), ("Tim Condon", "0xTim"), ("Mahdi Bahrami", "MahdiBM")],
            lastCommit: "2025-03-16T02:47:00Z"
        ),
        Specification(
            owner: "GraphQLSwift",
            name: "Graphiti",
            description: "The Swift GraphQL Schema framework for macOS and Linux",
            stars: 538,
            forks: 67,
            issues: (7, 48),
            pullRequests: (1, 22, 109),
            languages: [("Swift", 309_877)],
            release: ("3.1.0", "3.1.0", "2025-02-27T05:12:36Z"),
            defaultBranch: "main",
            createdAt: "2016-09-26T20:21:09Z",
            authors: [("Jay Herron", "NeedleInAJayStack"), ("Paulo Faria", "paulofaria")],
            lastCommit: "2025-02-27T05:00:00Z"
        ),
        Specification(
            owner: "octocat",
            name: "Hello-World",
            description: "My first repository on GitHub!",
            stars: 2_879,
            forks: 2_981,
            issues: (1_621, 211),
            pullRequests: (2_104, 1_030, 1),
            languages: [],
            release: nil,
            defaultBranch: "master",
            createdAt: "2011-01-26T19:01:12Z",
            recentCommits: [
                GitHubCommitRecord(
                    oid: "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
                    messageHeadline: "Merge pull request #6 from Spaceghost/patch-1",
                    committedDate: "2012-03-06T23:06:50Z",
                    authorName: "The Octocat",
                    authorEmail: "octocat@nowhere.com",
                    authorLogin: "octocat"
                )
            ],
            commitCount: 1
        ),
        Specification(
            owner: "interchange-demo",
            name: "empty-repository",
            description: nil,
            stars: 0,
            forks: 0,
            issues: (0, 0),
            pullRequests: (0, 0, 0),
            languages: [],
            release: nil,
            defaultBranch: nil,
            createdAt: "2025-01-01T00:00:00Z",
            commitCount: 0
        ),
    ]
}
