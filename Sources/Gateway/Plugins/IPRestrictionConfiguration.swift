/// Kong's `ip-restriction` plugin: allow or deny client addresses and CIDR ranges, IPv4 and IPv6.
public struct IPRestrictionConfiguration: Hashable, Sendable {
    public var allow: [String]?
    public var deny: [String]?
    /// The status to answer a refused client with (Kong: 403 when unset).
    public var status: Int?
    public var message: String?

    public init(allow: [String]? = nil, deny: [String]? = nil) {
        self.allow = allow
        self.deny = deny
    }

    init(reading config: ObjectReader) {
        allow = config.strings("allow", validate: Validators.ipOrCIDR)
        deny = config.strings("deny", validate: Validators.ipOrCIDR)
        status = config.integer("status", in: 100...599)
        message = config.string("message")
        if allow == nil, deny == nil {
            config.report(nil, "at least one of these fields must be non-empty: 'config.allow', 'config.deny'")
        }
    }
}
