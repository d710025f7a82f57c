/// Kong's `acl` plugin: allow or deny consumers by their `acls` groups (exactly one of the two lists).
public struct ACLConfiguration: Hashable, Sendable {
    public enum Rule: Hashable, Sendable {
        case allow([String])
        case deny([String])
    }

    public var rule: Rule
    public var hideGroupsHeader = false
    public var alwaysUseAuthenticatedGroups = false

    public init(rule: Rule) { self.rule = rule }

    init(reading config: ObjectReader) {
        let allow = config.strings("allow")
        let deny = config.strings("deny")
        switch (allow, deny) {
        case (let allow?, nil): rule = .allow(allow)
        case (nil, let deny?): rule = .deny(deny)
        case (_?, _?):
            config.report("deny", "only one of these fields must be non-empty: 'config.allow', 'config.deny'")
            rule = .allow(allow ?? [])
        case (nil, nil):
            config.report(nil, "at least one of these fields must be non-empty: 'config.allow', 'config.deny'")
            rule = .allow([])
        }
        hideGroupsHeader = config.bool("hide_groups_header", default: false)
        alwaysUseAuthenticatedGroups = config.bool("always_use_authenticated_groups", default: false)
    }
}
