import Crypto
import Foundation
import Gateway
import HTTPTypes
import Hummingbird

/// Kong's `basic-auth`: `Authorization` (or `Proxy-Authorization`) `Basic base64(username:password)` against the
/// consumers' `basicauth_credentials`. The password is compared in constant time (SHA-256 digests of both, compared
/// byte for byte without an early exit). On success the consumer is set as key-auth sets it (`hide_credentials`
/// removes the header); on failure `401` with `WWW-Authenticate: Basic realm="<realm>"`, or the `anonymous` consumer.
struct BasicAuthPlugin: GatewayPlugin {
    let configuration: BasicAuthConfiguration
    /// Username → (consumer, the credential's identifier, SHA-256 of the password).
    let credentials: [String: (consumer: EntityIndex<Consumer>, identifier: String, digest: [UInt8])]
    let consumers: [Consumer]
    let anonymous: EntityIndex<Consumer>?

    init(_ configuration: BasicAuthConfiguration, gateway: GatewayConfiguration) throws {
        self.configuration = configuration
        var credentials: [String: (consumer: EntityIndex<Consumer>, identifier: String, digest: [UInt8])] = [:]
        for (position, consumer) in gateway.consumers.enumerated() {
            for credential in consumer.basicAuthCredentials {
                credentials[credential.username] = (
                    EntityIndex(position), credential.id ?? credential.username, Self.digest(credential.password.value)
                )
            }
        }
        self.credentials = credentials
        self.consumers = gateway.consumers
        self.anonymous = try gateway.anonymousConsumer(configuration.anonymous, plugin: "basic-auth")
    }

    static func digest(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Data(text.utf8))) }

    /// Equal digests, in time that does not depend on where they differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    func access(_ context: inout PluginContext) async throws -> Response? {
        let header: HTTPField.Name? =
            context.head.headerFields[.authorization] != nil
            ? .authorization : (context.head.headerFields[.proxyAuthorization] != nil ? .proxyAuthorization : nil)
        guard let header, let value = context.head.headerFields[header] else {
            return fail(&context, detail: "Unauthorized")
        }
        guard let (username, password) = Self.decode(value),
            let credential = credentials[username],
            Self.constantTimeEqual(Self.digest(password), credential.digest)
        else {
            return fail(&context, detail: "Invalid authentication credentials")
        }
        if configuration.hideCredentials { context.head.headerFields[header] = nil }
        context.identify(credential.consumer, credential: credential.identifier, in: consumers)
        return nil
    }

    /// `Basic <base64(username:password)>` → the two parts; nil for anything else.
    static func decode(_ value: String) -> (String, String)? {
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    private func fail(_ context: inout PluginContext, detail: String) -> Response? {
        if let anonymous {
            context.identifyAnonymously(anonymous, in: consumers)
            return nil
        }
        return GatewayProblem.response(
            401,
            "unauthorized",
            "Unauthorized",
            detail,
            headers: [.wwwAuthenticate: #"Basic realm="\#(configuration.realm)""#],
            correlationID: context.correlationID
        )
    }
}

extension HTTPField.Name {
    static let proxyAuthorization = Self("Proxy-Authorization")!
}
