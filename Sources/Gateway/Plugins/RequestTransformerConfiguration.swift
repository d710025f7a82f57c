/// Kong's `request-transformer` plugin: remove → rename → replace → add → append, on headers, query string and body.
public struct RequestTransformerConfiguration: Hashable, Sendable {
    public struct Removals: Hashable, Sendable {
        public var headers: [String] = []
        public var querystring: [String] = []
        public var body: [String] = []
    }

    public struct Changes: Hashable, Sendable {
        public var headers: [NameValue] = []
        public var querystring: [NameValue] = []
        public var body: [NameValue] = []
    }

    /// Change the method (upper-case letters).
    public var httpMethod: String?
    public var remove = Removals()
    /// `old:new` names.
    public var rename = Changes()
    public var replace = Changes()
    /// Kong's `replace.uri`: the upstream path replaced.
    public var replaceURI: String?
    public var add = Changes()
    public var append = Changes()

    public init() {}

    init(reading config: ObjectReader) {
        httpMethod = config.string("http_method", validate: Validators.httpMethod)
        if let remove = config.object("remove") {
            self.remove.headers = remove.strings("headers", default: [], validate: Validators.headerName) ?? []
            self.remove.querystring = remove.strings("querystring", default: []) ?? []
            self.remove.body = remove.strings("body", default: []) ?? []
            remove.finish()
        }
        if let rename = config.object("rename") {
            self.rename = Self.changes(rename, renames: true)
            rename.finish()
        }
        if let replace = config.object("replace") {
            self.replace = Self.changes(replace, renames: false)
            replaceURI = replace.string("uri")
            if replaceURI?.contains("$(") == true { replace.report("uri", "templates ('$(…)') are not supported yet") }
            replace.finish()
        }
        for key in ["add", "append"] {
            guard let section = config.object(key) else { continue }
            let changes = Self.changes(section, renames: false)
            if key == "add" { add = changes } else { append = changes }
            section.finish()
        }
    }

    private static func changes(_ section: ObjectReader, renames: Bool) -> Changes {
        Changes(
            headers: section.nameValues("headers", headerNames: true, renames: renames),
            querystring: section.nameValues("querystring"),
            body: section.nameValues("body")
        )
    }
}
