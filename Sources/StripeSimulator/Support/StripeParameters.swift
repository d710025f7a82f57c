#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Typed reading of a request's ``StripeForm`` with Stripe's errors, naming each parameter by its bracketed path
/// (`line_items[0][quantity]`).
struct StripeParameters: Sendable {
    let form: StripeForm

    /// Rejects top-level parameters outside `allowed` (`parameter_unknown`), as Stripe does.
    func requireOnly(_ allowed: Set<String>) throws(StripeAPIError) {
        if let unknown = form.keys.first(where: { !allowed.contains($0) }) { throw .unknown(unknown) }
    }

    func node(_ key: String) -> StripeForm.Node? { form[key] }

    func string(_ key: String) throws(StripeAPIError) -> String? { try Self.string(form[key], key) }
    func requiredString(_ key: String) throws(StripeAPIError) -> String { try Self.requiredString(form[key], key) }
    func int(_ key: String) throws(StripeAPIError) -> Int? { try Self.int(form[key], key) }
    func bool(_ key: String) throws(StripeAPIError) -> Bool? { try Self.bool(form[key], key) }
    func metadata(_ key: String) throws(StripeAPIError) -> [String: String] { try Self.metadata(form[key], key) }

    /// `expand[]=a&expand[]=b`, `expand[0]=a`, or one `expand=a`.
    func expand() throws(StripeAPIError) -> [String] {
        guard let node = form["expand"] else { return [] }
        if let single = node.string { return single.isEmpty ? [] : [single] }
        guard let list = node.list else { throw .invalid("expand", "Invalid array", code: nil) }
        var paths: [String] = []
        for (index, element) in list.enumerated() {
            guard let path = element.string else { throw .invalid("expand[\(index)]", "Invalid string: expand[\(index)]") }
            paths.append(path)
        }
        return paths
    }

    // MARK: Node readers, for nested parameters

    static func string(_ node: StripeForm.Node?, _ name: String) throws(StripeAPIError) -> String? {
        guard let node else { return nil }
        guard let value = node.string else { throw .invalid(name, "Invalid string: \(name) must be a string, not an object") }
        return value.isEmpty ? nil : value
    }

    static func requiredString(_ node: StripeForm.Node?, _ name: String) throws(StripeAPIError) -> String {
        guard let node else { throw .missing(name) }
        guard let value = node.string else { throw .invalid(name, "Invalid string: \(name) must be a string, not an object") }
        guard !value.isEmpty else { throw .emptyString(name) }
        return value
    }

    static func int(_ node: StripeForm.Node?, _ name: String) throws(StripeAPIError) -> Int? {
        guard let raw = try string(node, name) else { return nil }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)) else { throw .invalidInteger(name, raw) }
        return value
    }

    /// `true` or `false`, as the SDKs send booleans.
    static func bool(_ node: StripeForm.Node?, _ name: String) throws(StripeAPIError) -> Bool? {
        guard let raw = try string(node, name) else { return nil }
        switch raw {
        case "true": return true
        case "false": return false
        default: throw .invalid(name, "Invalid boolean: \(raw)")
        }
    }

    static func requiredInt(_ node: StripeForm.Node?, _ name: String) throws(StripeAPIError) -> Int {
        guard node != nil else { throw .missing(name) }
        guard let value = try int(node, name) else { throw .emptyString(name) }
        return value
    }

    /// A string map; Stripe's limits: 50 keys, keys up to 40 characters, values up to 500.
    static func metadata(_ node: StripeForm.Node?, _ name: String) throws(StripeAPIError) -> [String: String] {
        guard let node else { return [:] }
        if let value = node.string, value.isEmpty { return [:] }
        guard node.isObject else { throw .invalid(name, "Invalid object") }
        var result: [String: String] = [:]
        for member in node.members {
            let key = "\(name)[\(member.key)]"
            guard let value = member.node.string else { throw .invalid(key, "Invalid string: \(key) must be a string, not an object") }
            guard member.key.count <= 40 else {
                throw .invalid(key, "Metadata keys can have up to 40 characters. You passed in a key with \(member.key.count) characters.")
            }
            guard value.count <= 500 else {
                throw .invalid(key, "Metadata values can have up to 500 characters, but you passed in a value that is \(value.count) characters.")
            }
            if !value.isEmpty { result[member.key] = value }
        }
        guard result.count <= 50 else { throw .invalid(name, "You can have up to 50 metadata keys. You passed in \(result.count) keys.") }
        return result
    }
}

/// `limit`, `starting_after`, `ending_before` of a list request.
struct ListParameters: Sendable {
    var limit: Int
    var startingAfter: String?
    var endingBefore: String?

    init(_ parameters: StripeParameters) throws(StripeAPIError) {
        let limit = try parameters.int("limit") ?? 10
        guard (1...100).contains(limit) else {
            throw .invalid(
                "limit",
                limit < 1 ? "This value must be greater than or equal to 1." : "This value must be less than or equal to 100.",
                code: "parameter_invalid_integer"
            )
        }
        self.limit = limit
        startingAfter = try parameters.string("starting_after")
        endingBefore = try parameters.string("ending_before")
        if startingAfter != nil && endingBefore != nil {
            throw StripeAPIError(
                status: .badRequest,
                code: "parameters_exclusive",
                message: "You may only specify one of these parameters: ending_before, starting_after.",
                param: "ending_before",
                isValidation: true
            )
        }
    }

    static let names: Set<String> = ["limit", "starting_after", "ending_before", "expand"]

    /// One page of `items` (any order), newest first, cut at the cursors. A cursor must name an object of the same
    /// kind (`sequenceOf` finds it), else `resource_missing`.
    func page<T: StripeObject>(
        _ items: [T],
        objectName: String,
        sequenceOf: (String) -> Int?
    ) throws(StripeAPIError) -> (items: [T], hasMore: Bool) {
        let newestFirst = items.sorted { $0.sequence > $1.sequence }
        if let startingAfter {
            guard let cursor = sequenceOf(startingAfter) else {
                throw .noSuch(objectName, startingAfter, param: "starting_after", status: .badRequest)
            }
            let after = newestFirst.filter { $0.sequence < cursor }
            return (Array(after.prefix(limit)), after.count > limit)
        }
        if let endingBefore {
            guard let cursor = sequenceOf(endingBefore) else {
                throw .noSuch(objectName, endingBefore, param: "ending_before", status: .badRequest)
            }
            let before = newestFirst.filter { $0.sequence > cursor }
            return (Array(before.suffix(limit)), before.count > limit)
        }
        return (Array(newestFirst.prefix(limit)), newestFirst.count > limit)
    }

    /// Stripe's list object.
    static func json(_ data: [StripeJSON], hasMore: Bool, url: String) -> StripeJSON {
        ["object": "list", "data": .array(data), "has_more": .bool(hasMore), "url": .string(url)]
    }
}
