/// Random identifiers in the shape the APIs Interchange speaks use: a prefix, an underscore, and letters and
/// digits (`msg_2Zk…`, `whsec_…`, `cs_test_…`), drawn from the system's cryptographically secure generator.
///
/// ```swift
/// let id = RandomIdentifier.make(prefix: "ep", length: 24)   // "ep_8fKq…"
/// ```
public enum RandomIdentifier {
    /// The 62 letters and digits identifiers are made of.
    public static let alphabet: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// `prefix_` followed by `length` random letters and digits (about 5.95 bits each).
    public static func make(prefix: String, length: Int) -> String {
        prefix + "_" + random(length: length)
    }

    /// `length` random letters and digits.
    public static func random(length: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
