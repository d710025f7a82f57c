import ArgumentParser
import Foundation
import Gateway

/// Route matching cost as the route count grows: the compiled router should stay flat from 10 to 10 000 routes.
///
/// Every table has the same shape at every size: routes spread over 8 exact hosts, a wildcard host and host-less
/// routes in equal shares, each with a prefix path `/svc-<nnnnn>/v1` (some with methods or a header condition), plus the same 10 regex
/// routes at every size (regexes are tried one by one, so their number is held constant). Requests hit routes chosen
/// at random (fixed seed), with a suffix after the prefix and a query string; a tenth ask for a path no route has.
struct GatewayRouterBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gateway-router", abstract: "Gateway route matching, 10 to 10 000 routes.")

    @Option(help: "Route counts to measure, comma-separated.") var sizes = "10,100,1000,10000"
    @Option(help: "Matches per measurement.") var matches = 200_000
    @Option(help: "Rounds; every size is measured once per round, in turn.") var rounds = 5

    func run() async throws {
        let counts = sizes.split(separator: ",").compactMap { Int($0) }
        var routers: [(Int, GatewayRouter, [RouteRequest])] = []
        for count in counts {
            let configuration = Self.configuration(routes: count)
            let started = ContinuousClock.now
            let router = GatewayRouter(configuration)
            let compile = ContinuousClock.now - started
            print("compiled \(count) routes in \(compile)")
            routers.append((count, router, Self.requests(routes: count, count: 4096)))
        }
        var perMatch = Array(repeating: [Double](), count: routers.count)
        var hits = Array(repeating: 0, count: routers.count)
        for (index, (_, router, requests)) in routers.enumerated() { _ = Self.measure(router, requests, matches / 10) }  // warm-up
        for _ in 1...rounds {
            for (index, (_, router, requests)) in routers.enumerated() {
                let (nanoseconds, matched) = Self.measure(router, requests, matches)
                perMatch[index].append(nanoseconds)
                hits[index] = matched
            }
        }
        print("| routes | ns per match (median of \(rounds) rounds) | min | max | matched of \(matches) |")
        print("|---:|---:|---:|---:|---:|")
        for (index, (count, _, _)) in routers.enumerated() {
            let sorted = perMatch[index].sorted()
            print("| \(count) | \(Int(sorted[sorted.count / 2])) | \(Int(sorted.first!)) | \(Int(sorted.last!)) | \(hits[index]) |")
        }
    }

    static func measure(_ router: GatewayRouter, _ requests: [RouteRequest], _ matches: Int) -> (Double, Int) {
        var matched = 0
        let started = ContinuousClock.now
        // Each request borrowed in place: `requests[i]` copied it, retaining its strings and header array — cold
        // lines next to a big table, and the benchmark's cost, not the router's (a server routes the request it holds).
        requests.withUnsafeBufferPointer { requests in
            for index in 0..<matches {
                if router.match((requests.baseAddress! + (index & (requests.count - 1))).pointee) != nil { matched += 1 }
            }
        }
        let elapsed = ContinuousClock.now - started
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        return (nanoseconds / Double(matches), matched)
    }

    /// Ten host kinds, so that every table — the 10-route one too — has each kind in the same share: 8 exact hosts,
    /// host-less routes and a wildcard host.
    static func host(for route: Int) -> String? {
        switch route % 10 {
        case 8: nil
        case 9: "*.wild.example.com"
        case let bucket: "h\(bucket).example.com"
        }
    }

    static func configuration(routes count: Int) -> GatewayConfiguration {
        var routes: [Route] = []
        for index in 0..<count {
            var route = Route(name: "r\(index)", paths: ["/svc-\(padded(index))/v1"], service: EntityIndex(0))
            if let host = host(for: index) { route.hosts = [host] }
            if index % 7 == 0 { route.methods = ["GET", "POST"] }
            if index % 13 == 0 { route.headers = ["x-tenant": ["t\(index % 5)"]] }
            routes.append(route)
        }
        for index in 0..<10 {
            routes.append(Route(name: "regex\(index)", paths: ["~/items-\(index)/(?<id>\\d+)$"], regexPriority: index, service: EntityIndex(0)))
        }
        return GatewayConfiguration(services: [Service(name: "s", host: "upstream.internal", path: "/base")], routes: routes)
    }

    static func requests(routes count: Int, count requests: Int) -> [RouteRequest] {
        var generator = SplitMix64(seed: 42)
        // Requests with the same headers share one array: in a server the request being routed was just parsed, hot
        // in cache; 4 096 separate header arrays were a cold line or two per match once a big table pushed them out
        // (`perf annotate` put a fifth of `match` at 10 000 routes on reading them), which is the benchmark's cost.
        let headers = (0..<5).map { [(name: "X-Tenant", value: "t\($0)"), (name: "Accept", value: "application/json")] }
        return (0..<requests).map { _ in
            let pick = Int(generator.next() % UInt64(count))
            if generator.next() % 10 == 0 {
                return RouteRequest(method: "GET", host: "h1.example.com", target: "/nothing-here/\(padded(pick))")
            }
            if generator.next() % 20 == 0 {
                let regex = pick % 10
                return RouteRequest(method: "GET", host: "h1.example.com", target: "/items-\(regex)/\(padded(pick))")
            }
            let host = Self.host(for: pick).map { $0.hasPrefix("*") ? "api" + $0.dropFirst() : $0 } ?? "any.example.org"
            return RouteRequest(
                method: "GET",
                host: host,
                target: "/svc-\(padded(pick))/v1/orders/\(padded(pick))?page=2",
                headers: headers[pick % 5]
            )
        }
    }
}

/// `n` in five digits, zero-padded: every table's paths and requests are as long as the 10 000-route table's (with
/// plain numbers, the bigger tables' requests were up to 8 bytes longer, and path work grows with length).
private func padded(_ n: Int) -> String {
    let digits = String(n)
    return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
}

/// A small deterministic generator so every run asks the same requests.
private struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
