import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// key-auth's `verify_url`: asks a credential service whether a key is valid (`POST {"key": …}` → `200
/// {"userId", "keyId"}`, or `401`), remembering each answer briefly — a valid key for `validFor`, an invalid one for
/// `invalidFor` — by the key's SHA-256 digest, so a burst of requests with one key makes one call, and a revoked key
/// stops working within `validFor`. An unreachable service fails closed (the request is refused, 503).
final class KeyVerifier: Sendable {
    struct Identity: Sendable, Equatable, Decodable {
        let userId: String
        let keyId: String
    }

    enum Verdict: Sendable, Equatable {
        case valid(Identity)
        case invalid
        case unavailable
    }

    let url: String
    private let validFor: Duration
    private let invalidFor: Duration
    private let client: HTTPClient
    private let answers = Mutex<[Data: (verdict: Verdict, until: ContinuousClock.Instant)]>([:])
    private static let capacity = 10_000

    init(url: String, validFor: Duration = .seconds(10), invalidFor: Duration = .seconds(2), client: HTTPClient = .shared) {
        self.url = url
        self.validFor = validFor
        self.invalidFor = invalidFor
        self.client = client
    }

    func verify(_ key: String, digest: Data) async -> Verdict {
        let now = ContinuousClock.now
        if let known = answers.withLock({ $0[digest] }), known.until > now { return known.verdict }
        let verdict = await ask(key)
        guard verdict != .unavailable else { return verdict }
        let until = now + (verdict == .invalid ? invalidFor : validFor)
        answers.withLock { answers in
            if answers.count >= Self.capacity { answers = answers.filter { $0.value.until > now } }
            if answers.count < Self.capacity { answers[digest] = (verdict, until) }
        }
        return verdict
    }

    private func ask(_ key: String) async -> Verdict {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        guard let body = try? JSONEncoder().encode(["key": key]) else { return .invalid }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(2))
            let answer = try await response.body.collect(upTo: 64 * 1024)
            switch response.status.code {
            case 200:
                guard let identity = try? JSONDecoder().decode(Identity.self, from: Data(answer.readableBytesView)) else { return .unavailable }
                return .valid(identity)
            case 400, 401, 403, 404: return .invalid
            default: return .unavailable
            }
        } catch {
            return .unavailable
        }
    }
}
