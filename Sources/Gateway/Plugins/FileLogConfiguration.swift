/// Kong's `file-log` plugin: one JSON line per request, appended to a file, once its response has ended.
public struct FileLogConfiguration: Hashable, Sendable {
    /// The file appended to (`/dev/stdout` writes to standard output).
    public var path = ""
    /// Open and close the file for every line (so a rotated file is picked up at once).
    public var reopen = false

    public init() {}

    init(reading config: ObjectReader) {
        if config.contains("path") {
            path =
                config.string("path") { path in
                    path.contains(where: { "*&%`".contains($0) }) ? "not a valid filename: it may not contain *, &, % or `" : nil
                } ?? ""
        } else {
            config.report("path", "required field missing")
        }
        reopen = config.bool("reopen", default: false)
        config.notSupportedYet("custom_fields_by_lua", unless: \.isEmptyMapping, "there is no Lua here")
    }
}
