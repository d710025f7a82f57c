/// Kong's `proxy-cache` plugin: cache upstream answers in memory by a key of method, path, query and headers.
public struct ProxyCacheConfiguration: Hashable, Sendable {
    public struct ResponseHeaders: Hashable, Sendable {
        public var age = true
        public var xCacheStatus = true
        public var xCacheKey = true
    }

    public var responseCode: [Int] = [200, 301, 404]
    public var requestMethod: [String] = ["GET", "HEAD"]
    public var contentType: [String] = ["text/plain", "application/json"]
    /// Seconds an entry is fresh.
    public var cacheTTL = 300
    /// Honour `Cache-Control` of requests and responses (RFC 7234).
    public var cacheControl = false
    public var ignoreURICase = false
    /// Seconds an entry is kept (beyond freshness), when set.
    public var storageTTL: Int?
    public var varyQueryParams: [String]?
    public var varyHeaders: [String]?
    public var responseHeaders = ResponseHeaders()
    /// Interchange's: the bytes the cache may hold (bodies and headers), least recently used entries evicted first —
    /// Kong's `mem_cache_size` (128 MiB) by default.
    public var maxBytes = 128 << 20
    /// Interchange's: a response larger than this is passed on but not stored.
    public var maxEntryBytes = 1 << 20

    public init() {}

    init(reading config: ObjectReader) {
        responseCode = config.integers("response_code", default: responseCode, in: 100...900)
        if responseCode.isEmpty { config.report("response_code", "length must be at least 1") }
        let methods = ["HEAD", "GET", "POST", "PATCH", "PUT"]
        requestMethod =
            config.strings("request_method", default: requestMethod) {
                methods.contains($0) ? nil : "expected one of: \(methods.joined(separator: ", "))"
            } ?? requestMethod
        contentType = config.strings("content_type", default: contentType) ?? contentType
        cacheTTL = config.integer("cache_ttl", default: 300, in: 1...Int(Int32.max)) ?? 300
        switch config.string("strategy") {
        case "memory": break
        case nil: config.report("strategy", "required field missing")
        case let other?: config.report("strategy", "not supported yet ('\(other)'); use 'memory'")
        }
        cacheControl = config.bool("cache_control", default: false)
        ignoreURICase = config.bool("ignore_uri_case", default: false)
        storageTTL = config.integer("storage_ttl", in: 0...Int(Int32.max))
        // Kong's shared-dictionary name; the gateway has one memory cache per plugin instance, so the name is inert.
        if let memory = config.object("memory") {
            _ = memory.string("dictionary_name")
            maxBytes = memory.integer("max_bytes", default: maxBytes, in: 1024...Int(Int32.max)) ?? maxBytes
            maxEntryBytes = memory.integer("max_entry_bytes", default: maxEntryBytes, in: 1...Int(Int32.max)) ?? maxEntryBytes
            if maxEntryBytes > maxBytes {
                memory.report("max_entry_bytes", "cannot be larger than max_bytes (\(maxBytes))")
            }
            memory.finish()
        }
        varyQueryParams = config.strings("vary_query_params")
        varyHeaders = config.strings("vary_headers")
        if let headers = config.object("response_headers") {
            responseHeaders.age = headers.bool("age", default: true)
            responseHeaders.xCacheStatus = headers.bool("X-Cache-Status", default: true)
            responseHeaders.xCacheKey = headers.bool("X-Cache-Key", default: true)
            headers.finish()
        }
    }
}
