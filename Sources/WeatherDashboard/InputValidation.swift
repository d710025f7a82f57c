import Foundation
import ServiceRuntime

/// The dashboard's rules for what a person may type, checked before any upstream is called.
/// A violation is a `400` problem naming the parameter.
enum InputValidation {
    /// A city name, as openapi/weather-dashboard.yaml states it: 1–100 characters (Unicode scalars, as JSON
    /// Schema counts them), at least one not white space, none a control character; returned trimmed.
    static func city(_ value: String?, parameter: String = "city") throws -> String? {
        guard let value else { return nil }
        let scalars = value.unicodeScalars
        guard !scalars.isEmpty else { throw ProblemError.invalidParameter(parameter, "must not be empty") }
        guard scalars.count <= 100 else {
            throw ProblemError.invalidParameter(parameter, "must be at most 100 characters (got \(scalars.count))")
        }
        guard !scalars.contains(where: isControl) else {
            throw ProblemError.invalidParameter(parameter, "must not contain control characters")
        }
        guard scalars.contains(where: { !$0.properties.isWhitespace }) else {
            throw ProblemError.invalidParameter(parameter, "must not be only white space")
        }
        return value.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// C0 and C1 controls and DEL (U+0000–U+001F, U+007F–U+009F): the document's pattern excludes exactly these.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value <= 0x1F || (0x7F...0x9F).contains(scalar.value)
    }

    /// An ISO 3166-1 alpha-2 code.
    static func country(_ value: String?) throws -> String? {
        guard let value else { return nil }
        guard value.unicodeScalars.count == 2, value.unicodeScalars.allSatisfy({ $0.isASCII && CharacterSet.letters.contains($0) }) else {
            throw ProblemError.invalidParameter("country", "must be a two-letter ISO 3166-1 code like GB (got '\(value.prefix(20))')")
        }
        return value.uppercased()
    }

    /// Decimal degrees within ±`limit` (90 or 180), written as the document's pattern says: an optional minus,
    /// digits without leading zeros, an optional fraction (`52.52`, `-0.5`, `180.0`; not `1e2`, `+3` or `091`).
    static func coordinate(_ text: String?, parameter: String, limit: Double) throws -> Double? {
        guard let text else { return nil }
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : nil
        let wellFormed =
            !whole.isEmpty && whole.allSatisfy(isDigit) && (whole == "0" || whole.first != "0")
            && fraction.map { !$0.isEmpty && $0.allSatisfy(isDigit) } ?? true
        guard wellFormed, let value = Double(text), abs(value) <= limit else {
            throw ProblemError.invalidParameter(parameter, "must be a number between -\(Int(limit)) and \(Int(limit)) (got '\(text.prefix(32))')")
        }
        return value
    }

    private static func isDigit(_ character: Character) -> Bool { character.isASCII && character.isNumber }

    /// `metric` (the default) or `imperial`.
    static func units(_ text: String?) throws -> Units {
        guard let text else { return .metric }
        guard let units = Units(rawValue: text) else {
            throw ProblemError.invalidParameter("units", "must be metric or imperial (got '\(text.prefix(32))')")
        }
        return units
    }

    /// A GitHub login: 1–39 characters, letters, digits and single inner hyphens.
    static func owner(_ value: String) throws -> String {
        let scalars = Array(value.unicodeScalars)
        let valid =
            (1...39).contains(scalars.count) && scalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
            && scalars.first != "-" && scalars.last != "-" && !value.contains("--")
        guard valid else {
            throw ProblemError.invalidParameter("owner", "must be a GitHub login: 1-39 letters, digits or inner hyphens (got '\(value.prefix(50))')")
        }
        return value
    }

    /// A repository name: 1–100 characters of letters, digits, '.', '-', '_', and not '.' or '..'.
    static func repository(_ value: String) throws -> String {
        let valid =
            (1...100).contains(value.unicodeScalars.count)
            && value.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-_".unicodeScalars.contains($0)) }
            && value != "." && value != ".."
        guard valid else {
            throw ProblemError.invalidParameter(
                "name",
                "must be a repository name: 1-100 letters, digits, '.', '-' or '_' (got '\(value.prefix(50))')"
            )
        }
        return value
    }
}
