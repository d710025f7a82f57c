import Foundation

/// Why an event is not a valid CloudEvent (or could not be read as one), naming the attribute at fault.
///
/// ```swift
/// do { try event.validate() } catch { print(error) }   // attribute source: must not be empty
/// ```
public struct CloudEventValidationError: Error, Hashable, CustomStringConvertible {
    /// The attribute at fault (`id`, `source`, `datacontenttype`, an extension's name, `data`, `data_base64`), or
    /// `event` when the event as a whole could not be read.
    public var attribute: String
    /// What is wrong with it.
    public var reason: String

    public init(attribute: String, reason: String) {
        self.attribute = attribute
        self.reason = reason
    }

    public var description: String { "attribute \(attribute): \(reason)" }
}

extension CloudEvent {
    /// The context attributes CloudEvents 1.0 defines; no extension may take one of these names (nor `data`).
    public static let reservedAttributeNames: Set<String> = [
        "id", "source", "specversion", "type", "subject", "time", "datacontenttype", "dataschema", "data", "data_base64",
    ]

    /// Checks the event against CloudEvents 1.0: `id`, `source` and `type` non-empty, `specversion` `1.0`, `source` a
    /// URI-reference, `subject` non-empty when present, `time` within the years RFC 3339 can write, `datacontenttype`
    /// a media type (RFC 2045), `dataschema` an absolute URI (RFC 3986 §4.3), extension names lower-case `a`–`z` and
    /// `0`–`9`, at most 20 characters and not a context attribute's name, and `data` valid JSON when
    /// `datacontenttype` declares JSON.
    public func validate() throws(CloudEventValidationError) {
        guard specversion == CloudEvent.specificationVersion else {
            throw CloudEventValidationError(attribute: "specversion", reason: "must be \"1.0\", not \"\(specversion)\"")
        }
        guard !id.isEmpty else { throw CloudEventValidationError(attribute: "id", reason: "must not be empty") }
        guard !source.isEmpty else { throw CloudEventValidationError(attribute: "source", reason: "must not be empty") }
        guard URISyntax.isURIReference(source) else {
            throw CloudEventValidationError(attribute: "source", reason: "must be a URI-reference (RFC 3986), not \"\(source)\"")
        }
        guard !type.isEmpty else { throw CloudEventValidationError(attribute: "type", reason: "must not be empty") }
        if let subject, subject.isEmpty {
            throw CloudEventValidationError(attribute: "subject", reason: "must not be empty when present")
        }
        if let time, !RFC3339Timestamp.years.contains(Int(RFC3339Timestamp.year(of: time))) {
            throw CloudEventValidationError(attribute: "time", reason: "must fall in the years 0000 to 9999 (RFC 3339)")
        }
        if let datacontenttype, !MediaTypeSyntax.isMediaType(datacontenttype) {
            throw CloudEventValidationError(
                attribute: "datacontenttype",
                reason: "must be a media type such as application/json (RFC 2045), not \"\(datacontenttype)\""
            )
        }
        if let dataschema, !URISyntax.isAbsoluteURI(dataschema) {
            throw CloudEventValidationError(
                attribute: "dataschema",
                reason: "must be an absolute URI with a scheme and no fragment (RFC 3986), not \"\(dataschema)\""
            )
        }
        for name in extensions.keys {
            try Self.validateExtensionName(name)
        }
        if let data, dataIsJSON, !data.withUnsafeBytes({ JSONScanner.isValidJSON($0.bindMemory(to: UInt8.self)) }) {
            throw CloudEventValidationError(
                attribute: "data",
                reason: "is not valid JSON, but datacontenttype \(datacontenttype ?? "(absent)") declares JSON"
            )
        }
    }

    /// Whether `datacontenttype` declares JSON (`*/json`, `*/*+json`); an absent one counts as JSON only when an
    /// explicit type was not needed, so this is `false` for `nil` (see ``jsonEncoded()`` for that case).
    var dataIsJSON: Bool { datacontenttype.map(MediaTypeSyntax.isJSON) ?? false }

    static func validateExtensionName(_ name: String) throws(CloudEventValidationError) {
        guard !name.isEmpty, name.utf8.count <= 20,
            name.utf8.allSatisfy({ ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) })
        else {
            throw CloudEventValidationError(
                attribute: name,
                reason: "an extension name must be 1 to 20 lower-case letters a-z or digits 0-9"
            )
        }
        guard !reservedAttributeNames.contains(name) else {
            throw CloudEventValidationError(attribute: name, reason: "is a CloudEvents context attribute, not an extension name")
        }
    }
}

/// RFC 2045 / RFC 9110 media types: `type "/" subtype *( OWS ";" OWS token "=" ( token / quoted-string ) )`.
enum MediaTypeSyntax {
    static func isMediaType(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        var index = 0
        func token() -> Bool {
            let start = index
            while index < bytes.count, isTokenCharacter(bytes[index]) { index += 1 }
            return index > start
        }
        func whitespace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        }
        guard token(), index < bytes.count, bytes[index] == UInt8(ascii: "/") else { return false }
        index += 1
        guard token() else { return false }
        while true {
            whitespace()
            guard index < bytes.count else { return true }
            guard bytes[index] == UInt8(ascii: ";") else { return false }
            index += 1
            whitespace()
            guard index < bytes.count else { return true }
            guard token(), index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return false }
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                    index += 1
                }
                guard index < bytes.count else { return false }
                index += 1
            } else {
                guard token() else { return false }
            }
        }
    }

    /// Whether the media type (parameters ignored) is `*/json` or `*/*+json`.
    static func isJSON(_ value: String) -> Bool {
        let essence = value.utf8.prefix { $0 != UInt8(ascii: ";") && $0 != 0x20 && $0 != 0x09 }
        guard let slash = essence.firstIndex(of: UInt8(ascii: "/")) else { return false }
        let subtype = essence[essence.index(after: slash)...]
        func endsWith(_ suffix: String) -> Bool {
            let suffix = Array(suffix.utf8)
            guard subtype.count >= suffix.count else { return false }
            return zip(subtype.suffix(suffix.count), suffix).allSatisfy { lowercased($0) == $1 }
        }
        return subtype.count == 4 ? endsWith("json") : endsWith("+json")
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: tokenPunctuation.contains(byte)
        }
    }

    private static let tokenPunctuation = Set("!#$%&'*+-.^_`|~".utf8)
}

/// The character-level syntax of RFC 3986 URI-references and absolute URIs.
enum URISyntax {
    /// Every character is unreserved, reserved or a `%HH` escape (a URI-reference may be relative: `/orders`).
    static func isURIReference(_ value: String) -> Bool {
        // Checked on every publish and every delivery: over the string's own UTF-8, no copy.
        var value = value
        return value.withUTF8 { bytes in
            var index = 0
            var fragments = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "%") {
                    guard index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else { return false }
                    index += 3
                    continue
                }
                guard isURICharacter(byte) else { return false }
                if byte == UInt8(ascii: "#") { fragments += 1 }
                index += 1
            }
            // A fragment may occur once.
            return fragments <= 1
        }
    }

    /// `scheme ":" hier-part [ "?" query ]`: a scheme (a letter, then letters, digits, `+`, `-`, `.`) and no fragment.
    static func isAbsoluteURI(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0, isLetter(bytes[0]) else { return false }
        guard
            bytes[1..<colon].allSatisfy({
                isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            })
        else { return false }
        return !bytes.contains(UInt8(ascii: "#")) && isURIReference(value)
    }

    private static func isURICharacter(_ byte: UInt8) -> Bool {
        if isLetter(byte) || isDigit(byte) { return true }
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "/"),
            UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "@"), UInt8(ascii: "!"),
            UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }
}
