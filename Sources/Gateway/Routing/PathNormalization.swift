/// Kong's request path normalization before routing: percent-escapes of unreserved and "other" characters decoded
/// (reserved ones kept, upper-cased), dot segments removed, repeated slashes merged — so `/a/%2e%2e/b` and `/b`
/// route alike and `/public/../admin` cannot sneak past a prefix.
enum PathNormalization {
    /// RFC 3986's reserved characters: their escapes keep their meaning, so they stay escaped.
    private static let reserved = Set("!*'();:@&=+$,/?%#[]".utf8)

    static func normalize(_ path: some StringProtocol) -> String {
        if path.isEmpty || path == "/" { return String(path) }
        var bytes = Array(path.utf8)
        if bytes.contains(UInt8(ascii: "%")) { bytes = decodeUnreserved(bytes) }
        if !bytes.contains(UInt8(ascii: ".")) && !containsDoubleSlash(bytes) { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: removeDotSegments(bytes), as: UTF8.self)
    }

    private static func containsDoubleSlash(_ bytes: [UInt8]) -> Bool {
        zip(bytes, bytes.dropFirst()).contains { $0 == UInt8(ascii: "/") && $1 == UInt8(ascii: "/") }
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func decodeUnreserved(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                let decoded = high << 4 | low
                if reserved.contains(decoded) {
                    output.append(UInt8(ascii: "%"))
                    output.append(contentsOf: String(decoded, radix: 16, uppercase: true).leftPadded.utf8)
                } else {
                    output.append(decoded)
                }
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    /// RFC 3986 §5.2.4 with `//` merged, as Kong's normalize(uri, merge_slashes).
    private static func removeDotSegments(_ bytes: [UInt8]) -> [UInt8] {
        let slash = UInt8(ascii: "/")
        let dot = UInt8(ascii: ".")
        var input = bytes[...]
        var segments: [ArraySlice<UInt8>] = []
        while !input.isEmpty {
            if input.elementsEqual([slash, dot]) {
                input = [slash][...]
            } else if input.elementsEqual([slash, dot, dot]) {
                input = [slash][...]
                _ = segments.popLast()
            } else if input.elementsEqual([dot]) || input.elementsEqual([dot, dot]) {
                input = []
            } else if input.starts(with: [dot, dot, slash]) {
                input = input.dropFirst(3)
            } else if input.starts(with: [dot, slash]) {
                input = input.dropFirst(2)
            } else if input.starts(with: [slash, dot, slash]) {
                input = input.dropFirst(2)
            } else if input.starts(with: [slash, dot, dot, slash]) {
                input = input.dropFirst(3)
                _ = segments.popLast()
            } else if input.starts(with: [slash, slash]) {
                input = input.dropFirst()
            } else {
                let searchStart = input.index(after: input.startIndex)
                let end = input[searchStart...].firstIndex(of: slash) ?? input.endIndex
                segments.append(input[..<end])
                input = input[end...]
            }
        }
        return Array(segments.joined())
    }

    /// Characters that may appear in a path on the wire unescaped (Kong's escape set); others are percent-encoded.
    private static let wireSafe = Set("!#$&'()*+,/:;=?@[]-_.~%".utf8)

    static func escapeForWire(_ path: String) -> String {
        let bytes = path.utf8
        if bytes.allSatisfy({ isAlphanumeric($0) || wireSafe.contains($0) }) { return path }
        var output = ""
        for byte in bytes {
            if isAlphanumeric(byte) || wireSafe.contains(byte) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%" + String(byte, radix: 16, uppercase: true).leftPadded
            }
        }
        return output
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}

extension String {
    fileprivate var leftPadded: String { count == 1 ? "0" + self : self }
}
