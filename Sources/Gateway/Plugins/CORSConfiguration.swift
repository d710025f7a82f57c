/// Kong's `cors` plugin: answers preflights and adds the `Access-Control-*` headers.
public struct CORSConfiguration: Hashable, Sendable {
    public static let allMethods = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT"]

    /// `*`, exact origins, or regular expressions (Kong treats an entry with regex characters as one).
    public var origins: [String]?
    public var headers: [String]?
    public var exposedHeaders: [String]?
    public var methods: [String] = CORSConfiguration.allMethods
    public var maxAge: Double?
    public var credentials = false
    public var privateNetwork = false
    /// Proxy preflights upstream instead of answering them.
    public var preflightContinue = false
    public var allowOriginAbsent = true

    public init() {}

    init(reading config: ObjectReader) {
        origins = config.strings("origins") { origin in
            origin == "*" ? nil : Validators.regex(origin).map { _ in "'\(origin)' is not a valid regex" }
        }
        headers = config.strings("headers")
        exposedHeaders = config.strings("exposed_headers")
        methods =
            config.strings("methods", default: methods) {
                Self.allMethods.contains($0) ? nil : "expected one of: \(Self.allMethods.joined(separator: ", "))"
            } ?? methods
        maxAge = config.number("max_age")
        credentials = config.bool("credentials", default: false)
        privateNetwork = config.bool("private_network", default: false)
        preflightContinue = config.bool("preflight_continue", default: false)
        allowOriginAbsent = config.bool("allow_origin_absent", default: true)
    }
}
