import GraphQL

/// Renders GraphQLSwift results the way GitHub writes them: members in selection order, `errors` after `data`,
/// resolver errors with GitHub's `type`, and the common validation errors with GitHub's messages, `path` and
/// `extensions.code`.
enum GitHubGraphQLResponse {
    /// `{"data":…,"errors":[…]}` of an executed query.
    static func executed(_ result: GraphQLResult, document: Document) -> WireJSON {
        var members: [(String, WireJSON)] = []
        if let data = result.data { members.append(("data", wire(data))) }
        if !result.errors.isEmpty {
            members.append(("errors", .array(result.errors.map { executionError($0) })))
        }
        return .object(members)
    }

    /// `{"errors":[…]}` for a query that failed validation (no `data`, as GitHub).
    static func invalid(_ errors: [GraphQLError], document: Document) -> WireJSON {
        .object([("errors", .array(errors.map { validationError($0, document: document) }))])
    }

    /// `{"errors":[…]}` for a query that does not parse: GraphQLSwift's message without its source excerpt.
    static func syntaxError(_ error: GraphQLError) -> WireJSON {
        let message = error.message.components(separatedBy: "\n\n").first ?? error.message
        return .object([("errors", .array([.object([("locations", locations(error)), ("message", .string(message))])]))])
    }

    /// `{"errors":[{"message":…}]}`
    static func message(_ message: String) -> WireJSON {
        .object([("errors", .array([.object([("message", .string(message))])]))])
    }

    static func executionError(_ error: GraphQLError) -> WireJSON {
        var members: [(String, WireJSON)] = []
        if let resolverError = error.originalError as? GitHubResolverError {
            members.append(("type", .string(resolverError.type)))
        }
        if !error.path.elements.isEmpty {
            members.append(
                (
                    "path",
                    .array(
                        error.path.elements.map {
                            switch $0 {
                            case .key(let key): .string(key)
                            case .index(let index): .int(index)
                            }
                        }
                    )
                )
            )
        }
        if !error.locations.isEmpty { members.append(("locations", locations(error))) }
        members.append(("message", .string(error.message)))
        return .object(members)
    }

    static func validationError(_ error: GraphQLError, document: Document) -> WireJSON {
        let fieldPath = error.nodes.first?.loc.flatMap { Self.path(toOffset: $0.start, in: document) }
        var members: [(String, WireJSON)] = []
        if let fieldPath { members.append(("path", .array(fieldPath.map { .string($0) }))) }
        var message = error.message
        if let translated = translate(error.message) {
            message = translated.message
            members.append(("extensions", .object(translated.extensions.map { ($0.0, .string($0.1)) })))
        }
        if !error.locations.isEmpty { members.append(("locations", locations(error))) }
        members.append(("message", .string(message)))
        return .object(members)
    }

    /// GitHub's wording and `extensions` for GraphQLSwift's most common validation messages.
    static func translate(_ message: String) -> (message: String, extensions: [(String, String)])? {
        let quoted = message.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map {
            String($0.element)
        }
        // `Cannot query field "foo" on type "Repository".` (perhaps with suggestions)
        if message.hasPrefix("Cannot query field "), quoted.count >= 2 {
            let (field, type) = (quoted[0], quoted[1])
            return ("Field '\(field)' doesn't exist on type '\(type)'", [("code", "undefinedField"), ("typeName", type), ("fieldName", field)])
        }
        // `Field "repository" on type "Query" does not have argument "color".`
        if message.hasPrefix("Field "), message.contains("does not have argument"), quoted.count >= 3 {
            let (field, argument) = (quoted[0], quoted[2])
            return (
                "Field '\(field)' doesn't accept argument '\(argument)'",
                [("code", "argumentNotAccepted"), ("name", field), ("typeName", "Field"), ("argumentName", argument)]
            )
        }
        // `Field "repository" argument "name" of type "String!" is required, but it was not provided.`
        if message.hasPrefix("Field "), message.contains("is required, but it was not provided"), quoted.count >= 2 {
            let (field, argument) = (quoted[0], quoted[1])
            return (
                "Field '\(field)' is missing required arguments: \(argument)",
                [("code", "missingRequiredArguments"), ("className", "Field"), ("name", field), ("arguments", argument)]
            )
        }
        return nil
    }

    /// GitHub's validation path to the node starting at `offset`: `["query Name", "repository", "foo"]`,
    /// with `... on Type` for inline fragments and `fragment Name` for fragment definitions.
    static func path(toOffset offset: Int, in document: Document) -> [String]? {
        for definition in document.definitions {
            if let operation = definition as? OperationDefinition {
                let root = operation.operation.rawValue + (operation.name.map { " " + $0.value } ?? "")
                if operation.loc?.start == offset { return [root] }
                if let found = search(operation.selectionSet, offset: offset, prefix: [root]) { return found }
            } else if let fragment = definition as? FragmentDefinition {
                let root = "fragment \(fragment.name.value)"
                if let found = search(fragment.selectionSet, offset: offset, prefix: [root]) { return found }
            }
        }
        return nil
    }

    private static func search(_ selectionSet: SelectionSet, offset: Int, prefix: [String]) -> [String]? {
        for selection in selectionSet.selections {
            if let field = selection as? Field {
                let path = prefix + [(field.alias ?? field.name).value]
                if field.loc?.start == offset { return path }
                if let children = field.selectionSet, let found = search(children, offset: offset, prefix: path) { return found }
            } else if let fragment = selection as? InlineFragment {
                let path = prefix + [fragment.typeCondition.map { "... on \($0.name.value)" } ?? "..."]
                if fragment.loc?.start == offset { return path }
                if let found = search(fragment.selectionSet, offset: offset, prefix: path) { return found }
            } else if let spread = selection as? FragmentSpread, spread.loc?.start == offset {
                return prefix + ["... \(spread.name.value)"]
            }
        }
        return nil
    }

    private static func locations(_ error: GraphQLError) -> WireJSON {
        .array(error.locations.map { .object([("line", .int($0.line)), ("column", .int($0.column))]) })
    }

    /// A GraphQLSwift value as JSON, keeping member order.
    static func wire(_ map: Map) -> WireJSON {
        switch map {
        case .undefined, .null: return .null
        case .bool(let value): return .bool(value)
        case .number(let number):
            switch number.storageType {
            case .bool: return .bool(number.boolValue)
            case .int: return .int(number.intValue)
            case .double, .unknown: return .number(number.doubleValue)
            }
        case .string(let value): return .string(value)
        case .array(let values): return .array(values.map(wire))
        case .dictionary(let members):
            return .object(members.compactMap { key, value in value.isUndefined ? nil : (key, wire(value)) })
        }
    }
}
