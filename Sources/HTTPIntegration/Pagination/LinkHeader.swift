import Foundation

/// A parsed RFC 8288 `Link` header.
///
/// ```swift
/// let links = LinkHeader.parse(#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#)
/// links.first { $0.relations.contains("next") }?.target   // "https://api.github.com/x?page=2"
/// ```
public struct LinkHeader: Sendable, Hashable {
    /// The target URI reference, as written (possibly relative).
    public var target: String
    /// The relation types (`rel="next last"` gives two), lowercased.
    public var relations: [String]
    /// The other parameters, names lowercased.
    public var parameters: [String: String]

    /// Parses every link in one or more `Link` header values; malformed links are skipped.
    public static func parse(_ values: some Sequence<String>) -> [LinkHeader] {
        values.flatMap { parse($0) }
    }

    /// Parses every link in a `Link` header value; malformed links are skipped.
    public static func parse(_ value: String) -> [LinkHeader] {
        var links: [LinkHeader] = []
        var scanner = Substring(value)
        while true {
            scanner = scanner.drop(while: { $0 == " " || $0 == "," || $0 == "\t" })
            guard !scanner.isEmpty else { break }
            guard scanner.first == "<" else {
                skipLink(&scanner)  // not a link: `junk, <…>; rel=next` still yields the second
                continue
            }
            let opened = scanner.index(after: scanner.startIndex)
            // A target is what lies between `<` and `>`; another `<` first means this one never closed.
            guard let close = scanner[opened...].firstIndex(where: { $0 == ">" || $0 == "<" }) else { break }
            guard scanner[close] == ">" else {
                scanner = scanner[close...]
                continue
            }
            let target = String(scanner[opened..<close])
            scanner = scanner[scanner.index(after: close)...]
            var parameters: [String: String] = [:]
            // Parameters: ; name=value | ; name="quoted, value" — up to the next top-level comma.
            while true {
                scanner = scanner.drop(while: { $0 == " " || $0 == "\t" })
                guard scanner.first == ";" else { break }
                scanner = scanner.dropFirst().drop(while: { $0 == " " || $0 == "\t" })
                let nameEnd = scanner.firstIndex(where: { $0 == "=" || $0 == ";" || $0 == "," }) ?? scanner.endIndex
                let name = scanner[..<nameEnd].trimmingCharacters(in: .whitespaces).lowercased()
                scanner = scanner[nameEnd...]
                var parameterValue = ""
                if scanner.first == "=" {
                    scanner = scanner.dropFirst().drop(while: { $0 == " " })
                    if scanner.first == "\"" {
                        scanner = scanner.dropFirst()
                        var text = ""
                        var escaped = false
                        while let character = scanner.first {
                            scanner = scanner.dropFirst()
                            if escaped {
                                text.append(character)
                                escaped = false
                            } else if character == "\\" {
                                escaped = true
                            } else if character == "\"" {
                                break
                            } else {
                                text.append(character)
                            }
                        }
                        parameterValue = text
                    } else {
                        let valueEnd = scanner.firstIndex(where: { $0 == ";" || $0 == "," }) ?? scanner.endIndex
                        parameterValue = scanner[..<valueEnd].trimmingCharacters(in: .whitespaces)
                        scanner = scanner[valueEnd...]
                    }
                }
                // RFC 8288 §3: occurrences after the first of the same parameter are ignored.
                if !name.isEmpty, parameters[name] == nil { parameters[name] = parameterValue }
            }
            scanner = scanner.drop(while: { $0 == " " || $0 == "\t" })
            guard scanner.isEmpty || scanner.first == "," else {
                skipLink(&scanner)  // `<…>garbage; rel=next` is malformed: skip it whole
                continue
            }
            let relations = (parameters["rel"] ?? "").lowercased().split(separator: " ").map(String.init)
            links.append(LinkHeader(target: target, relations: relations, parameters: parameters))
        }
        return links
    }

    /// Moves `scanner` past the next comma outside a quoted string: the end of a malformed link.
    private static func skipLink(_ scanner: inout Substring) {
        var quoted = false
        var escaped = false
        while let character = scanner.first {
            scanner = scanner.dropFirst()
            if escaped {
                escaped = false
            } else if quoted && character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == "," && !quoted {
                return
            }
        }
    }
}
