/// Kong's `jwt` plugin: a signed token naming one of the consumers' `jwt_secrets` by a claim.
public struct JWTConfiguration: Hashable, Sendable {
    public enum RegisteredClaim: String, Hashable, Sendable { case exp, nbf }

    public var uriParamNames: [String] = ["jwt"]
    public var cookieNames: [String] = []
    /// The claim (then header field) whose value is the secret's `key`.
    public var keyClaimName = "iss"
    public var secretIsBase64 = false
    public var claimsToVerify: Set<RegisteredClaim> = []
    public var anonymous: String?
    public var runOnPreflight = true
    /// Seconds a token may live at most (0: no limit); needs `exp` among the claims to verify.
    public var maximumExpiration: Double = 0
    public var headerNames: [String] = ["authorization"]
    public var realm: String?
    /// Past Kong OSS (Interchange's own field): when set, the token's `aud` (a string or an array) must name one of
    /// these.
    public var allowedAudiences: [String]?

    public init() {}

    init(reading config: ObjectReader) {
        uriParamNames = config.strings("uri_param_names", default: uriParamNames, unique: true) ?? uriParamNames
        cookieNames = config.strings("cookie_names", default: cookieNames, unique: true) ?? cookieNames
        keyClaimName = config.string("key_claim_name", default: keyClaimName) ?? keyClaimName
        secretIsBase64 = config.bool("secret_is_base64", default: false)
        let claims = config.strings("claims_to_verify", default: [], unique: true) {
            RegisteredClaim(rawValue: $0) == nil ? "expected one of: exp, nbf" : nil
        }
        claimsToVerify = Set((claims ?? []).compactMap(RegisteredClaim.init(rawValue:)))
        anonymous = config.string("anonymous")
        runOnPreflight = config.bool("run_on_preflight", default: true)
        maximumExpiration = config.number("maximum_expiration", default: 0, in: 0...31_536_000) ?? 0
        headerNames = config.strings("header_names", default: headerNames, unique: true) ?? headerNames
        realm = config.string("realm")
        allowedAudiences = config.strings("allowed_audiences", unique: true)
        if allowedAudiences?.isEmpty == true { config.report("allowed_audiences", "must name at least one audience (omit it to accept any)") }
        if maximumExpiration > 0, !claimsToVerify.contains(.exp) {
            config.report("claims_to_verify", "must contain 'exp' when 'maximum_expiration' is set")
        }
    }
}
