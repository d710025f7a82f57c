/// Kong's `response-transformer` plugin: remove → rename → replace → add → append, on headers and JSON body fields.
public struct ResponseTransformerConfiguration: Hashable, Sendable {
    public enum JSONType: String, Hashable, Sendable { case boolean, number, string }

    public struct Removals: Hashable, Sendable {
        public var headers: [String] = []
        public var json: [String] = []
    }

    public struct Changes: Hashable, Sendable {
        public var headers: [NameValue] = []
        public var json: [NameValue] = []
        /// The type of each `json` value, by position (Kong's `json_types`; missing entries are strings).
        public var jsonTypes: [JSONType] = []
    }

    public var remove = Removals()
    public var rename = Changes()
    public var replace = Changes()
    public var add = Changes()
    public var append = Changes()

    public init() {}

    init(reading config: ObjectReader) {
        if let remove = config.object("remove") {
            self.remove.headers = remove.strings("headers", default: []) ?? []
            self.remove.json = remove.strings("json", default: []) ?? []
            remove.finish()
        }
        if let rename = config.object("rename") {
            self.rename.headers = rename.nameValues("headers", headerNames: true, renames: true)
            self.rename.json = rename.nameValues("json", valueRequired: false)
            rename.finish()
        }
        for key in ["replace", "add", "append"] {
            guard let section = config.object(key) else { continue }
            var changes = Changes()
            changes.headers = section.nameValues("headers", valueRequired: false)
            changes.json = section.nameValues("json", valueRequired: false)
            let types = section.strings("json_types", default: []) {
                JSONType(rawValue: $0) == nil ? "expected one of: boolean, number, string" : nil
            }
            changes.jsonTypes = (types ?? []).compactMap(JSONType.init(rawValue:))
            section.finish()
            switch key {
            case "replace": replace = changes
            case "add": add = changes
            default: append = changes
            }
        }
    }
}
