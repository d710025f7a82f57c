/// Kong's `path_handling: v0`: how the service's path, the matched route path and the request path combine into the
/// path sent upstream.
enum UpstreamPath {
    /// - Parameters:
    ///   - servicePath: the service's `path` (`/` when it has none).
    ///   - requestPath: the normalized request path.
    ///   - postfix: what follows the matched prefix (or regex match) in the request path; used when stripping.
    static func build(servicePath: String, requestPath: String, postfix: Substring, stripPath: Bool) -> String {
        if servicePath.hasSuffix("/") {
            guard stripPath else { return servicePath + requestPath.dropFirst() }
            if postfix.isEmpty {
                if servicePath == "/" { return "/" }
                return requestPath.hasSuffix("/") ? servicePath : String(servicePath.dropLast())
            }
            if postfix.hasPrefix("/") { return String(servicePath.dropLast()) + postfix }
            return servicePath + postfix
        }
        guard stripPath else { return requestPath == "/" ? servicePath : servicePath + requestPath }
        if postfix.isEmpty { return requestPath.count > 1 && requestPath.hasSuffix("/") ? servicePath + "/" : servicePath }
        if postfix.hasPrefix("/") { return servicePath + postfix }
        return servicePath + "/" + postfix
    }

    /// Kong's clean-up of the postfix: a leading `./` or `../`, or a postfix that is only dots, is dropped.
    static func sanitize(_ postfix: Substring) -> Substring {
        if postfix == "." || postfix == ".." { return "" }
        if postfix.hasPrefix("./") { return postfix.dropFirst(2) }
        if postfix.hasPrefix("../") { return postfix.dropFirst(3) }
        return postfix
    }
}
