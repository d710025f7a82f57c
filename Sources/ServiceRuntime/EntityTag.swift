import Foundation

/// Strong `ETag`s for bytes served from memory (documents, static assets).
enum EntityTag {
    /// `"<FNV-1a of the bytes, hex>-<length>"`: the tag only has to change when the bytes do, not resist forgery.
    static func of(_ data: Data) -> String {
        let digest = data.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
        return "\"\(String(digest, radix: 16))-\(data.count)\""
    }
}
