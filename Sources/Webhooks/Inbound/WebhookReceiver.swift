import Foundation
import HTTPTypes
import Hummingbird
import InterchangeCore
import ServiceRuntime
import Synchronization
import WebhooksSigning

/// The receiving end of a webhook: verify the signature over the raw bytes, record the event in the inbox,
/// answer `2xx` at once — processing happens after the durable write, in an ``InboxProcessor``.
///
/// ```swift
/// let receiver = WebhookReceiver(source: "stripe", scheme: .stripe, secrets: { [secret] }, inbox: inbox)
/// receiver.addRoute(to: router, path: "/webhooks/stripe")
/// ```
///
/// A bad signature, a stale timestamp or a missing header is a `400` problem that names the reason, and touches
/// no state. A duplicate (same event id) is acknowledged with `200` and changes nothing.
public struct WebhookReceiver: Sendable {
    /// What happened to one delivery.
    public struct Receipt: Sendable, Hashable, Codable {
        public var eventID: String
        public var eventType: String?
        public var duplicate: Bool
    }

    public let source: String
    public let signer: WebhookSigner
    private let secrets: @Sendable () -> [String]
    public let inbox: WebhookInbox
    private let now: @Sendable () -> Date
    public let maxBodySize: Int
    private let keys = PreparedKeys()

    /// The verification keys for the current secrets, prepared again only when the secrets change.
    private final class PreparedKeys: Sendable {
        private let cache = Mutex<(secrets: [String], keys: WebhookVerificationKeys)?>(nil)

        func keys(for secrets: [String], signer: WebhookSigner) throws -> WebhookVerificationKeys {
            if let cached = cache.withLock({ $0 }), cached.secrets == secrets { return cached.keys }
            let keys = try signer.verificationKeys(for: secrets)
            cache.withLock { $0 = (secrets, keys) }
            return keys
        }
    }

    /// - Parameters:
    ///   - source: names the sender in the inbox (`stripe`), so ids from different senders never collide.
    ///   - secrets: the accepted secrets, read per delivery (several during a rotation).
    public init(
        source: String,
        scheme: WebhookSignatureScheme,
        tolerance: Duration = .seconds(300),
        secrets: @escaping @Sendable () -> [String],
        inbox: WebhookInbox,
        maxBodySize: Int = 1024 * 1024,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.source = source
        self.signer = WebhookSigner(scheme: scheme, tolerance: tolerance)
        self.secrets = secrets
        self.inbox = inbox
        self.maxBodySize = maxBodySize
        self.now = now
    }

    /// Verifies and records one delivery.
    ///
    /// - Throws: ``WebhookVerificationError`` for a bad signature; ``ProblemError`` (400) for a payload without an event id.
    public func receive(body: Data, headers: HTTPFields) async throws -> Receipt {
        let verified = try signer.verify(payload: body, headers: headers, keys: keys.keys(for: secrets(), signer: signer), now: now())
        let envelope = try? JSONDecoder().decode(Envelope.self, from: body)
        guard let eventID = verified.id ?? envelope?.id, !eventID.isEmpty else {
            throw ProblemError.invalidBody("the event has no id (expected a JSON object with an \"id\")", field: "id")
        }
        let outcome = try await inbox.record(source: source, eventID: eventID, eventType: envelope?.type, payload: body)
        return Receipt(eventID: eventID, eventType: envelope?.type, duplicate: outcome == .duplicate)
    }

    /// Adds `POST path` to `router`.
    public func addRoute(to router: Router<BasicRequestContext>, path: RouterPath) {
        router.post(path) { request, _ -> Response in
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: maxBodySize)
            } catch {
                throw ProblemError(
                    ProblemDetails(status: 413, title: "Content Too Large", detail: "webhook body exceeds \(maxBodySize) bytes")
                )
            }
            let receipt: Receipt
            do {
                receipt = try await receive(body: Data(buffer: body), headers: request.headers)
            } catch let error as WebhookVerificationError {
                throw ProblemError(
                    ProblemDetails(
                        status: 400,
                        title: "Webhook signature rejected",
                        detail: error.description,
                        type: ProblemError.typeBase + "webhook-signature",
                        extensions: ["reason": .string(error.code.description)]
                    )
                )
            }
            let data = try JSONEncoder().encode(receipt)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(data: data)))
        }
    }

    private struct Envelope: Decodable {
        let id: String?
        let type: String?
    }
}
