/// The order in which routes are tried, as Kong's default router (`traditional_compatible`) orders them: more kinds
/// of condition first, then hosts without wildcards, more headers, regex paths before prefixes (regexes by
/// `regex_priority`), longer prefixes; ties go to the route declared first.
struct RoutePriority: Comparable, Sendable {
    /// How many of methods, hosts, headers and paths the route sets.
    var conditionCount: Int
    var plainHostsOnly: Bool
    var headerCount: Int
    var isRegex: Bool
    /// Only counts for regex paths (as in Kong).
    var regexPriority: Int
    /// The length of the prefix (each matcher holds prefixes of one length, as Kong splits routes).
    var prefixLength: Int
    /// Position of the route in the file; earlier wins.
    var declarationOrder: Int

    /// True when `lhs` is tried before `rhs`.
    static func < (lhs: RoutePriority, rhs: RoutePriority) -> Bool {
        if lhs.conditionCount != rhs.conditionCount { return lhs.conditionCount > rhs.conditionCount }
        if lhs.plainHostsOnly != rhs.plainHostsOnly { return lhs.plainHostsOnly }
        if lhs.headerCount != rhs.headerCount { return lhs.headerCount > rhs.headerCount }
        if lhs.isRegex != rhs.isRegex { return lhs.isRegex }
        if lhs.regexPriority != rhs.regexPriority { return lhs.regexPriority > rhs.regexPriority }
        if lhs.prefixLength != rhs.prefixLength { return lhs.prefixLength > rhs.prefixLength }
        return lhs.declarationOrder < rhs.declarationOrder
    }
}
