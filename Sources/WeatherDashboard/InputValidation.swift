import ServiceRuntime

/// The dashboard's rules for what a person may type, checked before any upstream is called.
/// A violation is a `400` problem naming the parameter.
enum InputValidation {
    /// A city name: 1–100 characters after trimming, no control characters.
    static func city(_ value: String?, parameter: String = "city") throws -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ProblemError.invalidParameter(parameter, "must not be empty") }
        guard trimmed.count <= 100 else { throw ProblemError.invalidParameter(parameter, "must be at most 100 characters (got \(trimmed.count))") }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format })
        else {
            throw ProblemError.invalidParameter(parameter, "must not contain control characters")
        }
        return trimmed
    }

    /// An ISO 3166-1 alpha-2 code.
    static func country(_ value: String?) throws -> String? {
        guard let value else { return nil }
        guard value.count == 2, value.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw ProblemError.invalidParameter("country", "must be a two-letter ISO 3166-1 code like GB (got '\(value.prefix(20))')")
        }
        return value.uppercased()
    }

    /// Decimal degrees within ±`limit`.
    static func coordinate(_ text: String?, parameter: String, limit: Double) throws -> Double? {
        guard let text else { return nil }
        guard let value = Double(text), value.isFinite, abs(value) <= limit else {
            throw ProblemError.invalidParameter(parameter, "must be a number between -\(Int(limit)) and \(Int(limit)) (got '\(text.prefix(32))')")
        }
        return value
    }

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
        let characters = Array(value)
        let valid =
            (1...39).contains(characters.count) && characters.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
            && characters.first != "-" && characters.last != "-" && !value.contains("--")
        guard valid else {
            throw ProblemError.invalidParameter("owner", "must be a GitHub login: 1-39 letters, digits or inner hyphens (got '\(value.prefix(50))')")
        }
        return value
    }

    /// A repository name: 1–100 characters of letters, digits, '.', '-', '_', and not '.' or '..'.
    static func repository(_ value: String) throws -> String {
        let valid =
            (1...100).contains(value.count) && value.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || ".-_".contains($0) }
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
