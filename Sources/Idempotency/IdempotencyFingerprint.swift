import Crypto
import HTTPTypes
import Hummingbird
import NIOCore

/// What makes two requests "the same request" for an idempotency key: SHA-256 of the method, the path with its
/// query, the chosen headers and the body, each length-prefixed so no two different requests share an input.
///
/// ```swift
/// let fingerprint = IdempotencyFingerprint.of(request, body: body, headers: [.contentType])  // 64 hex digits
/// ```
public enum IdempotencyFingerprint {
    public static func of(_ request: Request, body: ByteBuffer, headers: [HTTPField.Name]) -> String {
        var hasher = SHA256()
        func add(_ bytes: some Sequence<UInt8>, count: Int) {
            withUnsafeBytes(of: UInt64(count).bigEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: Array(bytes))
        }
        func add(_ text: String) { add(text.utf8, count: text.utf8.count) }
        add(request.method.rawValue)
        add(request.uri.path)
        add(request.uri.query ?? "")
        for name in headers {
            add(name.canonicalName)
            let values = request.headers[values: name]
            add(String(values.count))
            for value in values { add(value) }
        }
        body.withUnsafeReadableBytes { add($0, count: $0.count) }
        return hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
