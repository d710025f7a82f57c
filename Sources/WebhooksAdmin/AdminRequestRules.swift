import Foundation
import InterchangeCore
import ServiceRuntime

/// What openapi/webhooks-admin.yaml states about a request that the generated decoder does not check — patterns,
/// lengths (in Unicode scalars, as JSON Schema counts them) and ranges — so a request that breaks the document is
/// a `400` naming the field (body) or parameter (path, query) before the engine sees it.
///
/// The patterns are the document's, character for character (a test holds them to the served document).
enum AdminRequestRules {
    static let targetURLPattern =
        #"^https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*(?:\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$"#
    static let eventTypeFilterPattern = #"^[A-Za-z0-9._*-]{1,128}$"#
    static let eventTypePattern = #"^[A-Za-z0-9._-]{1,128}$"#
    static let secretPattern = #"^whsec_(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$"#
    static let messageIDPattern = #"^[A-Za-z0-9._:-]{1,128}$"#
    static let endpointIDPattern = #"^ep_[A-Za-z0-9]{1,64}$"#
    static let deliveryIDPattern = #"^dlv_[A-Za-z0-9]{1,64}$"#

    static func check(url: String) throws {
        try require(url.unicodeScalars.count <= 2048, field: "url", "must be at most 2048 characters")
        try require(matches(url, targetURLPattern), field: "url", "must be an http(s) URL with a DNS name or IPv4 host and no user info or fragment")
    }

    static func check(description: String?) throws {
        guard let description else { return }
        try require(description.unicodeScalars.count <= 500, field: "description", "must be at most 500 characters")
    }

    static func check(eventTypes: [String]?) throws {
        for (index, type) in (eventTypes ?? []).enumerated() {
            try require(matches(type, eventTypeFilterPattern), field: "eventTypes[\(index)]", "must be 1-128 letters, digits, '.', '_', '-' or '*'")
        }
    }

    static func check(eventType: String) throws {
        try require(matches(eventType, eventTypePattern), field: "eventType", "must be 1-128 letters, digits, '.', '_' or '-'")
    }

    static func check(secret: String?) throws {
        guard let secret else { return }
        try require(
            secret.unicodeScalars.count >= 28 && matches(secret, secretPattern),
            field: "secret",
            "must be 'whsec_' and the base64 of at least 16 bytes"
        )
    }

    static func check(maxConcurrency: Int?) throws {
        guard let maxConcurrency else { return }
        try require((1...100).contains(maxConcurrency), field: "maxConcurrency", "must be between 1 and 100 (got \(maxConcurrency))")
    }

    static func check(overlapSeconds: Int?) throws {
        guard let overlapSeconds else { return }
        try require((0...604_800).contains(overlapSeconds), field: "overlapSeconds", "must be between 0 and 604800 (got \(overlapSeconds))")
    }

    static func check(messageID: String?) throws {
        guard let messageID else { return }
        try require(matches(messageID, messageIDPattern), field: "id", "must be 1-128 letters, digits, '.', '_', ':' or '-'")
    }

    /// The path's endpoint id, or a `400` naming `endpointId`.
    static func endpointID(_ id: String) throws -> String {
        guard matches(id, endpointIDPattern) else { throw ProblemError.invalidParameter("endpointId", "must be 'ep_' and 1-64 letters or digits") }
        return id
    }

    /// The path's delivery id, or a `400` naming `deliveryId`.
    static func deliveryID(_ id: String) throws -> String {
        guard matches(id, deliveryIDPattern) else { throw ProblemError.invalidParameter("deliveryId", "must be 'dlv_' and 1-64 letters or digits") }
        return id
    }

    /// Whether all of `value` matches `pattern`, scalar by scalar (JSON Schema's semantics; Swift's default
    /// compares grapheme clusters).
    static func matches(_ value: String, _ pattern: String) -> Bool {
        guard let regex = try? Regex(pattern) else { preconditionFailure("invalid pattern \(pattern)") }
        return (try? regex.matchingSemantics(.unicodeScalar).wholeMatch(in: value)) != nil
    }

    private static func require(_ condition: Bool, field: String, _ reason: String) throws {
        guard !condition else { return }
        throw ProblemError.invalidBody(reason, field: field)
    }
}
