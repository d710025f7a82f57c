import Foundation
import HTTPTypes
import InterchangeCore
import InterchangeTesting
import Persistence
import Synchronization
import Testing

@testable import WebhooksOutbound

#if canImport(Glibc)
import Glibc
#endif

@Suite("SSRF guard", .serialized, .timeLimit(.minutes(1)))
struct SSRFGuardTests {
    // MARK: Judging addresses

    @Test("every address a name resolves to is judged, not only the first")
    func everyResolvedAddress() async throws {
        let mixed = SSRFGuard(resolver: .init { _ in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "127.0.0.1"] })
        await #expect(throws: SSRFViolation(host: "hooks.example.test", address: "127.0.0.1")) {
            try await mixed.checkResolved(host: "hooks.example.test")
        }
        let public6 = SSRFGuard(resolver: .init { _ in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] })
        try await public6.checkResolved(host: "hooks.example.test")
        let metadataLast = SSRFGuard(resolver: .init { _ in ["2606:2800:220:1:248:1893:25c8:1946", "::ffff:169.254.169.254"] })
        await #expect(throws: SSRFViolation.self) { try await metadataLast.checkResolved(host: "hooks.example.test") }
    }

    @Test(
        "IPv6 that embeds an IPv4 address (mapped, compatible, SIIT, NAT64, 6to4) is judged as that IPv4 address",
        arguments: [
            ("[::ffff:127.0.0.1]", false), ("[::ffff:7f00:1]", false), ("[::127.0.0.1]", false), ("[::ffff:0:c0a8:101]", false),
            ("[64:ff9b::a9fe:a9fe]", false), ("[64:ff9b::10.0.0.1]", false), ("[64:ff9b:1::1]", false), ("[2002:a00:1::]", false),
            ("[2002:c0a8:101::1]", false), ("[fec0::1]", false),
            ("[::ffff:93.184.216.34]", true), ("[64:ff9b::5db8:d822]", true), ("[2002:5db8:d822::1]", true),
            ("[2606:2800:220:1:248:1893:25c8:1946]", true),
        ]
    )
    func embeddedIPv4(host: String, allowed: Bool) async throws {
        let url = "https://\(host)/hooks"
        if allowed {
            _ = try SSRFGuard().validate(url: url)
            try await SSRFGuard().checkResolved(host: host)
        } else {
            #expect(throws: ConfigurationError.self, "\(url)") { try SSRFGuard().validate(url: url) }
            await #expect(throws: SSRFViolation.self, "\(host)") { try await SSRFGuard().checkResolved(host: host) }
        }
    }

    @Test(
        "IPv4 written as inet_aton reads it (decimal, octal, hexadecimal, short forms) is judged as the address it spells",
        arguments: [
            ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
            ("127.1", "127.0.0.1"), ("0300.0250.0.1", "192.168.0.1"), ("0xA9FEA9FE", "169.254.169.254"), ("10.1", "10.0.0.1"),
            ("0", "0.0.0.0"), ("127.0.0.1.", "127.0.0.1"),
        ]
    )
    func inetAtonForms(host: String, spells: String) async throws {
        #expect(SSRFGuard.parseAddress(host)?.description == spells)
        #expect { try SSRFGuard().validate(url: "http://\(host)/hooks") } throws: { error in
            (error as? ConfigurationError)?.field == "url" && "\(error)".contains(spells)
        }
        await #expect(throws: SSRFViolation(host: SSRFGuard.normalized(host), address: spells)) {
            try await SSRFGuard().checkResolved(host: host)
        }
    }

    @Test("public addresses in any spelling, and ordinary names, pass; local names are refused at creation")
    func publicAndLocalNames() throws {
        for url in ["http://0x5db8d822/x", "http://1571346466/x", "https://93.184.216.34/x", "https://hooks.example.com/x", "https://1e100.net/x"] {
            _ = try SSRFGuard().validate(url: url)
        }
        for url in ["http://localhost./x", "http://LOCALHOST/x", "http://api.localhost/x", "http://printer.local/x", "http://db.internal/x"] {
            #expect(throws: ConfigurationError.self, "\(url)") { try SSRFGuard().validate(url: url) }
        }
        #expect(SSRFGuard.parseAddress("08.1.1.1") == nil)  // not octal: a name, which getaddrinfo would look up
        #expect(SSRFGuard.parseAddress("1.2.3.4.5") == nil)
        #expect(SSRFGuard.parseAddress("256.1.1.1") == nil)
    }

    @Test("a name that does not resolve is a resolution error to retry, not a forbidden target")
    func unresolvable() async throws {
        let guardWithoutAnswers = SSRFGuard(resolver: .init { _ in [] })
        await #expect(throws: HostResolutionError.self) { try await guardWithoutAnswers.checkResolved(host: "nowhere.example.test") }
        await #expect(throws: HostResolutionError.self) { try await SSRFGuard().checkResolved(host: "nowhere.invalid") }
    }

    // MARK: The delivery engine

    @Test("a name that resolves to loopback at delivery time is refused then: recorded as blocked, receiver never contacted")
    func refusedAtDeliveryTime() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/hooks", .status(204))
            let resolver = ScriptedResolver(["127.0.0.1"])
            try await withEngine(SSRFGuard(resolver: resolver.resolver)) { engine in
                // The name is not an address or a local name, so creating the endpoint succeeds.
                _ = try await engine.createEndpoint(url: "http://hooks.example.test:\(server.port)/hooks")
                let publication = try await engine.publish(eventType: "order.created", payload: Data("{}".utf8))
                #expect(await engine.processDue() == 1)
                let delivery = try #require(try await engine.store.delivery(id: publication.deliveryIDs[0]))
                #expect(delivery.status == .failed)
                #expect(delivery.lastError == SSRFViolation(host: "hooks.example.test", address: "127.0.0.1").description)
                let attempts = try await engine.store.attempts(deliveryID: delivery.id)
                #expect(attempts.count == 1)
                #expect(attempts.first?.error?.contains("resolves to 127.0.0.1") == true)
                #expect(attempts.first?.statusCode == nil)
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test("endpoints stored while private targets were allowed (decimal and IPv4-mapped loopback) are refused at delivery")
    func storedPrivateTargetsRefused() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/hooks", .status(204))
            try await TestDatabase.with(.sqlite) { database in
                let permissive = try await makeEngine(database, guard: SSRFGuard(allowPrivateNetworks: true))
                for url in ["http://2130706433:\(server.port)/hooks", "http://[::ffff:127.0.0.1]:\(server.port)/hooks"] {
                    _ = try await permissive.createEndpoint(url: url)
                }
                try await permissive.shutdown()
                let strict = try await makeEngine(database, guard: SSRFGuard())
                let publication = try await strict.publish(eventType: "order.created", payload: Data("{}".utf8))
                #expect(publication.deliveryIDs.count == 2)
                #expect(await strict.processDue() == 2)
                for id in publication.deliveryIDs {
                    let delivery = try #require(try await strict.store.delivery(id: id))
                    #expect(delivery.status == .failed)
                    #expect(delivery.lastError?.contains("which is not allowed") == true, "\(delivery.lastError ?? "")")
                }
                try await strict.shutdown()
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test("a name that rebinds to loopback after the delivery check is refused at connect time: the receiver sees nothing")
    func rebindingRefusedAtConnect() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/hooks", .status(204))
            // First answer (the engine's check): public. Every later one (the connection): loopback.
            let resolver = ScriptedResolver(["93.184.216.34"], ["127.0.0.1"])
            try await withEngine(SSRFGuard(resolver: resolver.resolver)) { engine in
                _ = try await engine.createEndpoint(url: "http://rebind.example.test:\(server.port)/hooks")
                let publication = try await engine.publish(eventType: "order.created", payload: Data("{}".utf8))
                #expect(await engine.processDue() == 1)
                let delivery = try #require(try await engine.store.delivery(id: publication.deliveryIDs[0]))
                #expect(delivery.status == .failed)
                #expect(delivery.lastError == SSRFViolation(host: "rebind.example.test", address: "127.0.0.1").description)
                #expect(resolver.calls == 2)
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test("a delivery connects to the address the guard resolved, and sends the URL's host as Host")
    func connectsToTheCheckedAddress() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/hooks", .status(204))
            // Only the guard's resolver knows this name: a client resolving it for itself could not connect.
            let resolver = ScriptedResolver(["127.0.0.1"])
            let ssrfGuard = SSRFGuard(allowedHosts: ["receiver.example.test"], resolver: resolver.resolver)
            try await withEngine(ssrfGuard) { engine in
                _ = try await engine.createEndpoint(url: "http://receiver.example.test:\(server.port)/hooks")
                let publication = try await engine.publish(eventType: "order.created", payload: Data(#"{"id":1}"#.utf8))
                #expect(await engine.processDue() == 1)
                let delivery = try #require(try await engine.store.delivery(id: publication.deliveryIDs[0]))
                #expect(delivery.status == .succeeded, "\(delivery.lastError ?? "")")
            }
            let received = try #require(server.requests(to: "/hooks").first)
            #expect(received.authority == "receiver.example.test:\(server.port)")
            #expect(received.body == #"{"id":1}"#)
            #expect(resolver.calls == 1)  // an allowed host is not checked, but still pinned
        }
    }

    @Test("a redirect from an allowed receiver to a loopback address is not followed, and is recorded as a failed attempt")
    func redirectNotFollowed() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/hooks", .status(302, headers: [("Location", "http://localhost:\(server.port)/internal")]))
            server.enqueue("/internal", .status(200))
            // The first hop is allowed; the redirect's target, a local name, is not.
            try await withEngine(SSRFGuard(allowedHosts: ["127.0.0.1"])) { engine in
                _ = try await engine.createEndpoint(url: "\(server.baseURL)/hooks")
                let publication = try await engine.publish(eventType: "order.created", payload: Data("{}".utf8))
                #expect(await engine.processDue() == 1)
                let delivery = try #require(try await engine.store.delivery(id: publication.deliveryIDs[0]))
                #expect(delivery.status == .pending)  // a failed attempt, retried on the schedule
                #expect(delivery.attempts == 1)
                #expect(delivery.lastStatusCode == 302)
                let attempts = try await engine.store.attempts(deliveryID: delivery.id)
                #expect(attempts.map(\.statusCode) == [302])
            }
            #expect(server.requests(to: "/hooks").count == 1)
            #expect(server.requests(to: "/internal").isEmpty)
        }
    }

    @Test("the connect proxy tunnels only for the client holding its credentials")
    func proxyNeedsCredentials() async throws {
        let proxy = try SSRFGuard.ConnectProxy.start(guard: SSRFGuard(allowPrivateNetworks: true), connectTimeout: .seconds(5))
        let port = proxy.port
        do {
            #expect(try rawExchange(port: port, "CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").hasPrefix("HTTP/1.1 407"))
            let wrong = "Proxy-Authorization: Basic aW50ZXJjaGFuZ2U6Z3Vlc3M="  // interchange:guess
            #expect(try rawExchange(port: port, "CONNECT 127.0.0.1:9 HTTP/1.1\r\n\(wrong)\r\n\r\n").hasPrefix("HTTP/1.1 407"))
            #expect(try rawExchange(port: port, "GET http://127.0.0.1:9/ HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 405"))
        } catch {
            try? await proxy.shutdown()
            throw error
        }
        try await proxy.shutdown()
    }

    // MARK: Helpers

    func makeEngine(_ database: Database, guard ssrfGuard: SSRFGuard) async throws -> WebhookDeliveryEngine {
        let clock = ManualClock()
        let engine = try WebhookDeliveryEngine(
            database: database,
            configuration: .init(requestTimeout: .seconds(5), ssrfGuard: ssrfGuard),
            tracer: nil,
            clock: clock,
            now: clock.dateProvider,
            jitterSource: .fixed(0.5)
        )
        try await engine.prepare()
        return engine
    }

    func withEngine(_ ssrfGuard: SSRFGuard, _ body: (WebhookDeliveryEngine) async throws -> Void) async throws {
        try await TestDatabase.with(.sqlite) { database in
            let engine = try await makeEngine(database, guard: ssrfGuard)
            do {
                try await body(engine)
                try await engine.shutdown()
            } catch {
                try? await engine.shutdown()
                throw error
            }
        }
    }

    /// Sends `request` to 127.0.0.1:`port` over a plain socket and returns the first bytes of the answer (5 s bound).
    func rawExchange(port: Int, _ request: String) throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw RawSocketError(step: "socket") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RawSocketError(step: "connect") }
        let bytes = Array(request.utf8)
        guard send(descriptor, bytes, bytes.count, 0) == bytes.count else { throw RawSocketError(step: "send") }
        var answer = [UInt8](repeating: 0, count: 256)
        let count = recv(descriptor, &answer, answer.count, 0)
        guard count > 0 else { throw RawSocketError(step: "recv") }
        return String(decoding: answer.prefix(count), as: UTF8.self)
    }

    struct RawSocketError: Error {
        var step: String
    }
}

/// A resolver answering from a script: each call takes the next answer; the last one repeats.
final class ScriptedResolver: Sendable {
    private let state: Mutex<(answers: [[String]], calls: Int)>

    init(_ answers: [String]...) {
        state = Mutex((answers, 0))
    }

    var calls: Int { state.withLock { $0.calls } }

    var resolver: SSRFGuard.Resolver {
        SSRFGuard.Resolver { [self] _ in
            state.withLock { state in
                state.calls += 1
                return state.answers.count > 1 ? state.answers.removeFirst() : state.answers[0]
            }
        }
    }
}
