import Foundation
import HTTPTypes
import InterchangeCore
import InterchangeTesting
import Testing

@testable import HTTPIntegration

@Suite("Resilient HTTP client: authentication", .timeLimit(.minutes(1)))
struct AuthenticationTests {
    @Test("an API key in the query is sent, and redacted from logs and errors")
    func apiKeyInQuery() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/data/2.5/weather", .status(401, body: #"{"cod":401,"message":"Invalid API key."}"#))
            let capture = LogCapture()
            let policy = try testPolicy(authentication: .apiKey("s3cr3t-key", query: "appid"))
            try await withClient(policy: policy, logger: capture.logger()) { client in
                let response = try await client.get("\(server.baseURL)/data/2.5/weather?q=London")
                #expect(server.requests.first?.queryValue("appid") == "s3cr3t-key")
                #expect(server.requests.first?.queryValue("q") == "London")
                let error = try await integrationError { _ = try response.ensureSuccess() }
                #expect(error.request.url.contains("q=London"))
                #expect(!"\(error)".contains("s3cr3t-key"))
                #expect(!capture.text.isEmpty)
                #expect(!capture.text.contains("s3cr3t-key"))
            }
        }
    }

    @Test("header API keys, bearer tokens and Basic credentials reach the server and never the logs")
    func headerCredentials() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/x", .json("{}"))
            let capture = LogCapture()
            let cases: [(any AuthenticationProvider, String, String)] = [
                (.apiKey("k-123", header: "X-API-Key"), "X-API-Key", "k-123"),
                (.bearer("tok-456"), "Authorization", "Bearer tok-456"),
                (.basic(username: "ada", password: "pw-789"), "Authorization", "Basic YWRhOnB3LTc4OQ=="),
            ]
            for (provider, header, expected) in cases {
                try await withClient(policy: testPolicy(authentication: provider), logger: capture.logger()) { client in
                    _ = try await client.get("\(server.baseURL)/x")
                    #expect(server.requests.last?.headers[HTTPField.Name(header)!] == expected)
                }
            }
            #expect(!capture.text.isEmpty, "the calls were logged, so the absence of secrets means something")
            for secret in ["k-123", "tok-456", "pw-789", "YWRhOnB3LTc4OQ"] {
                #expect(!capture.text.contains(secret))
            }
        }
    }

    /// A token endpoint that counts its calls and hands out numbered tokens, each answer held at `gate` when given.
    func tokenEndpoint(_ server: ScriptedHTTPServer, expiresIn: String = "3600", gate: Gate? = nil) -> CallCounter {
        let issued = CallCounter()
        server.handle("/oauth/token") { request in
            #expect(request.headers[.authorization] == "Basic Y2xpZW50OnNoaGg=")
            #expect(request.body.contains("grant_type=client_credentials"))
            #expect(request.body.contains("scope=orders%3Aread"))
            let number = issued.increment()
            await gate?.wait()
            return .json(#"{"access_token":"token-\#(number)","token_type":"bearer","expires_in":\#(expiresIn)}"#)
        }
        return issued
    }

    func oauth(_ server: ScriptedHTTPServer) throws -> OAuth2ClientCredentials {
        try OAuth2ClientCredentials(
            configuration: .init(tokenURL: "\(server.baseURL)/oauth/token", clientID: "client", clientSecret: "shhh", scopes: ["orders:read"])
        )
    }

    @Test("OAuth client credentials: one token request for many concurrent calls")
    func oauthSingleFlight() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let gate = Gate()
            let issued = tokenEndpoint(server, gate: gate)
            server.enqueue("/api/orders", .json("[]"))
            let oauth = try oauth(server)
            try await withClient(policy: testPolicy(authentication: oauth)) { client in
                try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<25 {
                        group.addTask { try await client.get("\(server.baseURL)/api/orders").ensureSuccess().text }
                    }
                    // The token endpoint holds its answer until the 24 other callers are waiting for that one refresh.
                    try await waitUntil("one token request is in flight and 24 callers wait for it") {
                        issued.count == 1 && oauth.callersWaitingForToken == 24
                    }
                    gate.open()
                    var answered = 0
                    for try await body in group {
                        #expect(body == "[]")
                        answered += 1
                    }
                    #expect(answered == 25)
                }
            }
            #expect(issued.count == 1)
            let api = server.requests(to: "/api/orders")
            #expect(api.count == 25)
            #expect(api.allSatisfy { $0.headers[.authorization] == "Bearer token-1" })
        }
    }

    @Test("OAuth client credentials: a refused refresh fails every caller waiting for it, with its error")
    func oauthSingleFlightFailure() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let gate = Gate()
            let issued = CallCounter()
            server.handle("/oauth/token") { _ in
                issued.increment()
                await gate.wait()
                return .json(#"{"error":"invalid_client","error_description":"unknown client"}"#, status: .unauthorized)
            }
            let oauth = try oauth(server)
            try await withClient(policy: testPolicy(authentication: oauth)) { client in
                let errors = try await withThrowingTaskGroup(of: HTTPIntegrationError.self) { group in
                    for _ in 0..<25 {
                        group.addTask { try await integrationError { _ = try await client.get("\(server.baseURL)/api/orders") } }
                    }
                    try await waitUntil("one token request is in flight and 24 callers wait for it") {
                        issued.count == 1 && oauth.callersWaitingForToken == 24
                    }
                    gate.open()
                    var errors: [HTTPIntegrationError] = []
                    for try await error in group { errors.append(error) }
                    return errors
                }
                #expect(errors.count == 25)
                for error in errors {
                    #expect(error.code == .authentication)
                    #expect(error.reason == "token endpoint refused: invalid_client (unknown client)")
                }
            }
            #expect(issued.count == 1)
            #expect(server.requests(to: "/api/orders").isEmpty)
        }
    }

    @Test("OAuth client credentials: expires_in sent as a string is honoured")
    func oauthExpiresInString() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let issued = tokenEndpoint(server, expiresIn: #""600""#)
            server.enqueue("/api/orders", .json("[]"))
            let clock = ManualClock(advancesOnSleep: true)
            try await withClient(policy: testPolicy(authentication: oauth(server)), clock: clock) { client in
                _ = try await client.get("\(server.baseURL)/api/orders").ensureSuccess()
                clock.advance(by: .seconds(530))  // a 600 s token, 60 s leeway: still token 1
                _ = try await client.get("\(server.baseURL)/api/orders").ensureSuccess()
                clock.advance(by: .seconds(20))  // 550 s: refresh (a 3600 s default would not)
                _ = try await client.get("\(server.baseURL)/api/orders").ensureSuccess()
            }
            #expect(issued.count == 2)
            #expect(
                server.requests(to: "/api/orders").map { $0.headers[.authorization] ?? "" } == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
            )
        }
    }

    @Test("OAuth client credentials: a non-numeric expires_in is an authentication error naming it")
    func oauthExpiresInNotANumber() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let issued = tokenEndpoint(server, expiresIn: #""soon""#)
            try await withClient(policy: testPolicy(authentication: oauth(server))) { client in
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/api/orders") }
                #expect(error.code == .authentication)
                #expect(error.reason == "token response has expires_in 'soon', which is not a number of seconds")
                #expect(server.requests(to: "/api/orders").isEmpty)
            }
            #expect(issued.count == 1)
        }
    }

    @Test("OAuth client credentials: the token is refreshed before it expires")
    func oauthRefreshBeforeExpiry() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let issued = tokenEndpoint(server, expiresIn: "600")
            server.enqueue("/api/orders", .json("[]"))
            let clock = ManualClock(advancesOnSleep: true)
            try await withClient(policy: testPolicy(authentication: oauth(server)), clock: clock) { client in
                _ = try await client.get("\(server.baseURL)/api/orders")
                clock.advance(by: .seconds(530))  // inside the 60 s leeway: still token 1
                _ = try await client.get("\(server.baseURL)/api/orders")
                clock.advance(by: .seconds(20))  // 550 s: within 60 s of expiry, refresh
                _ = try await client.get("\(server.baseURL)/api/orders")
            }
            #expect(issued.count == 2)
            #expect(
                server.requests(to: "/api/orders").map { $0.headers[.authorization] ?? "" } == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
            )
        }
    }

    @Test("OAuth client credentials: a 401 discards the token and retries once with a new one")
    func oauthRevokedToken() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let issued = tokenEndpoint(server)
            server.enqueue("/api/orders", .status(401), .json("[]"))
            try await withClient(policy: testPolicy(authentication: oauth(server))) { client in
                let response = try await client.get("\(server.baseURL)/api/orders")
                #expect(response.status == .ok)
            }
            #expect(issued.count == 2)
            #expect(server.requests(to: "/api/orders").map { $0.headers[.authorization] ?? "" } == ["Bearer token-1", "Bearer token-2"])
        }
    }

    @Test("OAuth client credentials: a refused token request is an authentication error without secrets")
    func oauthRefused() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/oauth/token", .json(#"{"error":"invalid_client","error_description":"unknown client"}"#, status: .unauthorized))
            try await withClient(policy: testPolicy(authentication: oauth(server))) { client in
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/api/orders") }
                #expect(error.code == .authentication)
                #expect(error.reason?.contains("invalid_client") == true)
                #expect(!"\(error)".contains("shhh"))
                #expect(server.requests(to: "/api/orders").isEmpty)
            }
        }
    }

    @Test("OAuth configuration errors name the field")
    func oauthConfiguration() {
        #expect {
            try OAuth2ClientCredentials(configuration: .init(tokenURL: "auth.example.com/token", clientID: "c", clientSecret: "s"))
        } throws: { ($0 as? ConfigurationError)?.field == "tokenURL" }
        #expect {
            try OAuth2ClientCredentials(configuration: .init(tokenURL: "https://auth.example.com/token", clientID: "", clientSecret: "s"))
        } throws: { ($0 as? ConfigurationError)?.field == "clientID" }
    }
}
