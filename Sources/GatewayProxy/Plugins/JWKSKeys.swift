import AsyncHTTPClient
import Foundation
import Gateway
import InterchangeCore
import JWTKit
import Logging
import NIOCore
import Synchronization

/// The keys an issuer publishes as a JWK Set (RFC 7517) at a `jwks_url`, fetched when first needed and cached.
///
/// - Only keys for the secret's algorithm are kept — its key type (`RSA` for RS/PS, `EC` on the algorithm's curve for
///   ES, `OKP` Ed25519 for EdDSA), `use` absent or `sig`, `alg` absent or the same — and each is pinned to that
///   algorithm: a symmetric (`oct`) key in the set is never used, so no token can make a public key an HMAC secret.
/// - The token's `kid` only looks a key up among those; a token without `kid` is verified when the set has one key.
/// - The set is fetched again once `refreshInterval` has passed, or when a token names a `kid` it lacks (key
///   rotation) but at most once per `unknownKidInterval`, so tokens with made-up `kid`s cannot make the gateway
///   hammer the issuer. Concurrent lookups share one fetch.
/// - A fetch that fails keeps the keys already held (and is retried after `unknownKidInterval`); with none held the
///   lookup is ``Lookup/unavailable``.
final class JWKSKeys: Sendable {
    enum Lookup: Sendable {
        case key(JWTKeyCollection)
        case unknownKid
        case unavailable(String)
    }

    let url: String
    let algorithm: JWTSecret.Algorithm
    private let client: HTTPClient
    private let now: @Sendable () -> Date
    private let logger: Logger
    let refreshInterval: TimeInterval
    let unknownKidInterval: TimeInterval

    private struct State {
        var keys: [String: JWTKeyCollection] = [:]
        var fetchedAt: Date?
        var attemptedAt: Date?
        var lastError: String?
        var fetch: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// The largest set read.
    static let bodyLimit = 512 * 1024

    init(
        url: String,
        algorithm: JWTSecret.Algorithm,
        client: HTTPClient = .shared,
        now: @escaping @Sendable () -> Date,
        logger: Logger,
        refreshInterval: TimeInterval = 300,
        unknownKidInterval: TimeInterval = 30
    ) {
        self.url = url
        self.algorithm = algorithm
        self.client = client
        self.now = now
        self.logger = logger
        self.refreshInterval = refreshInterval
        self.unknownKidInterval = unknownKidInterval
    }

    /// How many sets have been fetched (successfully or not).
    private let fetches = Atomic<Int>(0)
    var fetchCount: Int { fetches.load(ordering: .relaxed) }

    func key(for kid: String?) async -> Lookup {
        let instant = now()
        // A fresh key answers at once; otherwise wait for the fetch under way, or start one when allowed.
        let (found, fetch) = state.withLock { state -> (Lookup?, Task<Void, Never>?) in
            let found = Self.find(kid, in: state.keys)
            let stale = state.fetchedAt.map { instant.timeIntervalSince($0) >= refreshInterval } ?? true
            if let found, !stale { return (found, nil) }
            if let running = state.fetch { return (found, running) }
            guard state.attemptedAt.map({ instant.timeIntervalSince($0) >= unknownKidInterval }) ?? true else { return (found, nil) }
            state.attemptedAt = instant
            let task = Task { await self.fetchSet(at: instant) }
            state.fetch = task
            return (found, task)
        }
        guard let fetch else { return found ?? state.withLock { Self.missing($0) } }
        await fetch.value
        return state.withLock { state in Self.find(kid, in: state.keys) ?? Self.missing(state) }
    }

    private static func find(_ kid: String?, in keys: [String: JWTKeyCollection]) -> Lookup? {
        if let kid { return keys[kid].map(Lookup.key) }
        return keys.count == 1 ? .key(keys.first!.value) : nil
    }

    /// No key: the set could not be had at all, or it lacks the one asked for.
    private static func missing(_ state: borrowing State) -> Lookup {
        if state.keys.isEmpty, let error = state.lastError { return .unavailable(error) }
        return .unknownKid
    }

    private func fetchSet(at instant: Date) async {
        fetches.add(1, ordering: .relaxed)
        let result: Result<[String: JWTKeyCollection], any Error>
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/jwk-set+json, application/json")
            let response = try await client.execute(request, timeout: .seconds(5))
            guard response.status == .ok else { throw FetchError(reason: "HTTP \(response.status.code)") }
            let body = try await response.body.collect(upTo: Self.bodyLimit)
            result = .success(try await Self.keys(Data(buffer: body), for: algorithm))
        } catch {
            result = .failure(error)
        }
        state.withLock { state in
            state.fetch = nil
            switch result {
            case .success(let keys):
                state.keys = keys
                state.fetchedAt = instant
                state.lastError = nil
            case .failure(let error):
                state.lastError = "\(error)"
            }
        }
        switch result {
        case .success(let keys): logger.debug("gateway: jwt: fetched a JWK Set", metadata: ["url": "\(url)", "keys": "\(keys.count)"])
        case .failure(let error): logger.warning("gateway: jwt: could not fetch a JWK Set", metadata: ["url": "\(url)", "error": "\(error)"])
        }
    }

    struct FetchError: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    /// The set's keys usable for `algorithm`, each in a collection of its own (as its default), by `kid` (or by its
    /// position when it has none).
    static func keys(_ json: Data, for algorithm: JWTSecret.Algorithm) async throws -> [String: JWTKeyCollection] {
        guard case .object(let set)? = try? JSONDecoder().decode(JSONValue.self, from: json), case .array(let entries)? = set["keys"] else {
            throw FetchError(reason: "not a JWK Set: a JSON object with a 'keys' array")
        }
        var keys: [String: JWTKeyCollection] = [:]
        for (position, entry) in entries.enumerated() {
            guard case .object(let fields) = entry, usable(fields, for: algorithm),
                var jwk = try? JSONDecoder().decode(JWK.self, from: JSONEncoder().encode(entry))
            else { continue }
            let kid = jwk.keyIdentifier?.string ?? "#\(position)"
            jwk.keyIdentifier = JWKIdentifier(string: kid)
            jwk.algorithm = JWK.Algorithm(rawValue: algorithm.rawValue)
            let collection = JWTKeyCollection()
            guard (try? await collection.add(jwk: jwk, isDefault: true)) != nil else { continue }
            keys[kid] = collection
        }
        return keys
    }

    private static func usable(_ fields: [String: JSONValue], for algorithm: JWTSecret.Algorithm) -> Bool {
        func string(_ name: String) -> String? { if case .string(let value)? = fields[name] { value } else { nil } }
        if let use = string("use"), use != "sig" { return false }
        if let alg = string("alg"), alg != algorithm.rawValue { return false }
        switch algorithm {
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: return string("kty") == "RSA"
        case .es256: return string("kty") == "EC" && string("crv") == "P-256"
        case .es384: return string("kty") == "EC" && string("crv") == "P-384"
        case .es512: return string("kty") == "EC" && string("crv") == "P-521"
        case .edDSA: return string("kty") == "OKP" && string("crv") == "Ed25519"
        case .hs256, .hs384, .hs512: return false
        }
    }
}
