import Crypto
import Foundation
import Gateway
import HTTPTypes
import Hummingbird

/// Kong's `key-auth`: the consumer's key in one of `key_names`, as a header (any case) or a query parameter.
/// Keys are looked up by their SHA-256 digest, so no comparison runs over the key's own bytes. On success the
/// consumer is set and `X-Consumer-ID`, `-Username`, `-Custom-ID` and `X-Credential-Identifier` go upstream (the
/// key itself too, unless `hide_credentials`); on failure `401` problem+json with `WWW-Authenticate: Key`, or the
/// `anonymous` consumer with `X-Anonymous-Consumer: true`.
struct KeyAuthPlugin: GatewayPlugin {
    let configuration: KeyAuthConfiguration
    /// SHA-256 of each key → (consumer, the credential's id or a digest prefix).
    let keys: [Data: (consumer: EntityIndex<Consumer>, credential: String)]
    let consumers: [Consumer]
    let anonymous: EntityIndex<Consumer>?
    /// `verify_url`: keys no consumer of the file holds are checked there.
    let verifier: KeyVerifier?

    init(_ configuration: KeyAuthConfiguration, gateway: GatewayConfiguration) throws {
        self.configuration = configuration
        var keys: [Data: (consumer: EntityIndex<Consumer>, credential: String)] = [:]
        for (position, consumer) in gateway.consumers.enumerated() {
            for credential in consumer.keyAuthCredentials {
                let digest = Self.digest(credential.key.value)
                keys[digest] = (EntityIndex(position), credential.id ?? digest.prefix(8).map { String(format: "%02x", $0) }.joined())
            }
        }
        self.keys = keys
        self.consumers = gateway.consumers
        self.anonymous = try gateway.anonymousConsumer(configuration.anonymous, plugin: "key-auth")
        self.verifier = configuration.verifyURL.map { KeyVerifier(url: $0) }
    }

    static func digest(_ key: String) -> Data { Data(SHA256.hash(data: Data(key.utf8))) }

    func access(_ context: inout PluginContext) async throws -> Response? {
        if context.head.method == .options && !configuration.runOnPreflight { return nil }
        var found: (key: String, name: String, inHeader: Bool)?
        for name in configuration.keyNames {
            if configuration.keyInHeader, let field = HTTPField.Name(name), let value = context.head.headerFields[field] {
                found = (value, name, true)
                break
            }
            if configuration.keyInQuery, let value = context.queryParameter(name) {
                found = (value, name, false)
                break
            }
        }
        guard let found, !found.key.isEmpty else {
            return try fail(&context, status: 401, detail: "No API key found in request")
        }
        let digest = Self.digest(found.key)
        if let match = keys[digest] {
            hide(found, in: &context)
            context.identify(match.consumer, credential: match.credential, in: consumers)
            return nil
        }
        guard let verifier else { return try fail(&context, status: 401, detail: "Invalid authentication credentials") }
        switch await verifier.verify(found.key, digest: digest) {
        case .valid(let identity):
            hide(found, in: &context)
            context.identifyExternally(identity.userId, credential: identity.keyId)
            return nil
        case .invalid:
            return try fail(&context, status: 401, detail: "Invalid authentication credentials")
        case .unavailable:
            return GatewayProblem.response(
                503,
                "credentials-unavailable",
                "Credentials unavailable",
                "the service that checks API keys could not be reached; try again shortly",
                headers: [.retryAfter: "1"],
                correlationID: context.correlationID
            )
        }
    }

    private func hide(_ found: (key: String, name: String, inHeader: Bool), in context: inout PluginContext) {
        guard configuration.hideCredentials else { return }
        if found.inHeader, let field = HTTPField.Name(found.name) { context.head.headerFields[field] = nil }
        if !found.inHeader { context.removeQueryParameter(found.name) }
    }

    private func fail(_ context: inout PluginContext, status: Int, detail: String) throws -> Response? {
        if let anonymous {
            context.identifyAnonymously(anonymous, in: consumers)
            return nil
        }
        let realm = configuration.realm.map { #"Key realm="\#($0)""# } ?? "Key"
        return GatewayProblem.response(
            status,
            "unauthorized",
            "Unauthorized",
            detail,
            headers: [.wwwAuthenticate: realm],
            correlationID: context.correlationID
        )
    }
}

/// A plugin instance the proxy cannot run as configured.
struct GatewayPluginError: Error, CustomStringConvertible {
    let plugin: String
    let field: String
    let reason: String
    var description: String { "plugin \(plugin): \(field): \(reason)" }
}

extension HTTPField.Name {
    static let xConsumerID = Self("X-Consumer-ID")!
    static let xConsumerUsername = Self("X-Consumer-Username")!
    static let xConsumerCustomID = Self("X-Consumer-Custom-ID")!
    static let xCredentialIdentifier = Self("X-Credential-Identifier")!
    static let xAnonymousConsumer = Self("X-Anonymous-Consumer")!
}
