import InterchangeCore
import Testing

@Suite("HTTPURL")
struct HTTPURLTests {
    @Test(
        "each rule set refuses what it must, saying what is wrong",
        arguments: [
            ("example.com/path", HTTPURL.Rules.request, HTTPURL.Problem.notAbsolute),
            ("ftp://example.com", .request, .scheme("ftp")),
            ("http://", .request, .noHost),
            ("https://api.example.com?key=1", .baseURL, .query),
            ("https://api.example.com#top", .baseURL, .fragment),
            ("https://user:secret@hooks.example.com/x", .target, .credentials),
        ]
    )
    func refuses(url: String, rules: HTTPURL.Rules, problem: HTTPURL.Problem) {
        switch HTTPURL.check(url, rules: rules) {
        case .success: Issue.record("\(url) was accepted")
        case .failure(let found): #expect(found == problem)
        }
    }

    @Test("accepts what the rules allow and returns the host")
    func accepts() throws {
        let checked = try HTTPURL.check("https://user@api.example.com:8443/v1?x=1", rules: .request).get()
        #expect(checked.host == "api.example.com")
        #expect(try HTTPURL.parse("http://127.0.0.1:8080/sim", rules: .baseURL, field: "baseURL").port == 8080)
    }

    @Test("a configuration error names the field, the value and where it came from")
    func configurationError() {
        let error = #expect(throws: ConfigurationError.self) {
            try HTTPURL.parse("https://api.github.com?x", rules: .baseURL, field: "github.baseURL", source: "env GITHUB_URL")
        }
        #expect(error?.field == "github.baseURL")
        #expect(error?.reason == "'https://api.github.com?x' must not have a query")
        #expect(error?.source == "env GITHUB_URL")
    }
}
