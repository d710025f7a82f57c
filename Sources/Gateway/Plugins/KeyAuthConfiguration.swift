import Foundation

/// Kong's `key-auth` plugin: a consumer's key in a header, a query parameter (or, in Kong, the body).
public struct KeyAuthConfiguration: Hashable, Sendable {
    /// Header and query parameter names to look in (default `apikey`).
    public var keyNames: [String] = ["apikey"]
    /// Remove the credential before proxying.
    public var hideCredentials = false
    /// The consumer (id or username) to use when authentication fails, instead of answering 401.
    public var anonymous: String?
    public var keyInHeader = true
    public var keyInQuery = true
    /// Reading the key from a body is Kong's option; not supported yet (the gateway streams bodies).
    public var keyInBody = false
    /// Authenticate OPTIONS preflight requests too (false lets them through).
    public var runOnPreflight = true
    /// The `realm` of `WWW-Authenticate` on failure.
    public var realm: String?
    /// Past Kong (Interchange's own field): a key no consumer of this file holds is checked by `POST`ing
    /// `{"key": …}` here; a `200` with `{"userId", "keyId"}` identifies the request (the fulfillment users
    /// service's `/users/api/api-keys/verify` answers so). An `http` or `https` URL.
    public var verifyURL: String?

    public init() {}

    init(reading config: ObjectReader) {
        keyNames = config.strings("key_names", default: keyNames, validate: Validators.headerName) ?? keyNames
        hideCredentials = config.bool("hide_credentials", default: hideCredentials)
        anonymous = config.string("anonymous")
        keyInHeader = config.bool("key_in_header", default: keyInHeader)
        keyInQuery = config.bool("key_in_query", default: keyInQuery)
        if config.bool("key_in_body", default: false) { config.report("key_in_body", "not supported yet (the gateway streams request bodies)") }
        runOnPreflight = config.bool("run_on_preflight", default: runOnPreflight)
        realm = config.string("realm")
        verifyURL = config.string("verify_url") { url in
            guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
                components.host?.isEmpty == false
            else { return "expected an http or https URL" }
            return nil
        }
        if keyNames.isEmpty { config.report("key_names", "at least one key name is required") }
    }
}
