import Crypto

/// Parsing signature headers and matching signatures in place, over the header's UTF-8 bytes.
///
/// The expected MAC is encoded the way the header encodes signatures (lowercase hex for Stripe, base64 for
/// Standard Webhooks, as the reference libraries compare them) into a stack buffer, then compared with each
/// candidate of the right length, every byte, without an early exit. Nothing is decoded into arrays: on a 1 KiB
/// payload the allocations of a decode-then-compare parser cost a third as much as the HMAC itself.
extension WebhookSigner {
    typealias HeaderBytes = UnsafeBufferPointer<UInt8>
    typealias HeaderSlice = Slice<UnsafeBufferPointer<UInt8>>

    // MARK: Stripe: `t=<unix>,v1=<hex>[,v1=<hex>…]`

    /// Calls `body` with each `key=value` item, both trimmed of spaces.
    static func forEachStripeItem(_ header: HeaderBytes, _ body: (HeaderSlice, HeaderSlice) throws -> Void) rethrows {
        var start = header.startIndex
        while start <= header.endIndex {
            let end = header[start...].firstIndex(of: UInt8(ascii: ",")) ?? header.endIndex
            let item = header[start..<end]
            if let equals = item.firstIndex(of: UInt8(ascii: "=")) {
                try body(trimmed(item[..<equals]), trimmed(item[(equals + 1)...]))
            }
            start = end + 1
        }
    }

    /// The `t=` timestamp, after checking the header holds at least one well-formed `v1` (64 hex digits).
    static func stripeTimestamp(_ header: HeaderBytes) throws -> Int64 {
        var timestamp: Int64?
        var wellFormedSignatures = 0
        try forEachStripeItem(header) { key, value in
            if key.elementsEqual("t".utf8) {
                guard let parsed = integer(value) else {
                    throw WebhookVerificationError(
                        .malformedHeader,
                        "Stripe-Signature timestamp '\(String(decoding: value.prefix(32), as: UTF8.self))' is not a Unix timestamp"
                    )
                }
                timestamp = parsed
            } else if key.elementsEqual("v1".utf8), isHexSignature(value) {
                wellFormedSignatures += 1
            }  // v0 and unknown schemes are ignored, as Stripe's libraries do
        }
        guard let timestamp else { throw WebhookVerificationError(.malformedHeader, "Stripe-Signature has no t= timestamp") }
        guard wellFormedSignatures > 0 else {
            throw WebhookVerificationError(.malformedHeader, "Stripe-Signature has no valid v1 signature")
        }
        return timestamp
    }

    /// Whether any well-formed `v1` in the header is `mac` in hex (either case).
    static func stripeHeader(_ header: HeaderBytes, contains mac: HMAC<SHA256>.MAC) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * SHA256.byteCount) { expected in
            let digits: StaticString = "0123456789abcdef"
            mac.withUnsafeBytes { bytes in
                for (index, byte) in bytes.enumerated() {
                    expected[2 * index] = digits.utf8Start[Int(byte >> 4)]
                    expected[2 * index + 1] = digits.utf8Start[Int(byte & 0x0f)]
                }
            }
            var found: UInt8 = 0
            forEachStripeItem(header) { key, value in
                guard key.elementsEqual("v1".utf8), isHexSignature(value) else { return }
                var difference: UInt8 = 0
                // Validated hex digits: `| 0x20` lowercases A–F and leaves 0–9 alone.
                for (offset, byte) in value.enumerated() { difference |= (byte | 0x20) ^ expected[offset] }
                found |= difference == 0 ? 1 : 0
            }
            return found == 1
        }
    }

    private static func isHexSignature(_ value: HeaderSlice) -> Bool {
        value.count == 2 * SHA256.byteCount
            && value.allSatisfy { byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
            }
    }

    // MARK: Standard Webhooks: `v1,<base64>[ v1,<base64>…]`

    /// Calls `body` with the base64 part of each `v1,…` item.
    static func forEachStandardSignature(_ header: HeaderBytes, _ body: (HeaderSlice) -> Void) {
        var start = header.startIndex
        while start <= header.endIndex {
            let end = header[start...].firstIndex(of: UInt8(ascii: " ")) ?? header.endIndex
            let item = header[start..<end]
            if let comma = item.firstIndex(of: UInt8(ascii: ",")), item[..<comma].elementsEqual("v1".utf8) {
                body(item[(comma + 1)...])
            }
            start = end + 1
        }
    }

    /// Throws unless the header holds at least one `v1,` followed by base64.
    static func checkStandardSignatures(_ header: HeaderBytes) throws {
        var wellFormed = false
        forEachStandardSignature(header) { value in
            wellFormed = wellFormed || (!value.isEmpty && value.count % 4 == 0 && value.allSatisfy(isBase64Character))
        }
        guard wellFormed else {
            throw WebhookVerificationError(.malformedHeader, "webhook-signature has no valid 'v1,<base64>' signature")
        }
    }

    /// Whether any `v1` signature in the header is `mac` in (padded, standard-alphabet) base64.
    static func standardHeader(_ header: HeaderBytes, contains mac: HMAC<SHA256>.MAC) -> Bool {
        let encodedCount = (SHA256.byteCount + 2) / 3 * 4
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: encodedCount) { expected in
            mac.withUnsafeBytes { base64Encode($0, into: expected) }
            var found: UInt8 = 0
            forEachStandardSignature(header) { value in
                guard value.count == encodedCount else { return }
                var difference: UInt8 = 0
                for (offset, byte) in value.enumerated() { difference |= byte ^ expected[offset] }
                found |= difference == 0 ? 1 : 0
            }
            return found == 1
        }
    }

    private static func isBase64Character(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
            true
        default: false
        }
    }

    /// Standard base64 with padding; `output` holds exactly `(input.count + 2) / 3 * 4` bytes.
    static func base64Encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let symbols = alphabet.utf8Start
        var out = 0
        var index = 0
        while index < input.count {
            let remaining = input.count - index
            let b0 = UInt32(input[index])
            let b1 = remaining > 1 ? UInt32(input[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(input[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            output[out] = symbols[Int(group >> 18 & 0x3f)]
            output[out + 1] = symbols[Int(group >> 12 & 0x3f)]
            output[out + 2] = remaining > 1 ? symbols[Int(group >> 6 & 0x3f)] : UInt8(ascii: "=")
            output[out + 3] = remaining > 2 ? symbols[Int(group & 0x3f)] : UInt8(ascii: "=")
            out += 4
            index += 3
        }
    }
}
