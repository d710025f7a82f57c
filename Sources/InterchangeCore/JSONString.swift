/// Writes a Swift string as a JSON string literal (RFC 8259: quotes, backslashes and control characters
/// escaped; everything else as it is), for code that writes JSON by hand — log lines, wire-exact bodies —
/// without an encoder per value.
public enum JSONString {
    /// Appends `text`, quoted and escaped, to `output`.
    public static func append(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var output = ""
        append(text, to: &output)
        return output
    }
}
