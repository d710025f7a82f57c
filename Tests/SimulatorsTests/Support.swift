import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceRuntime
import Simulators
import Testing

/// 2025-03-20 18:27:56 UTC, when the fixtures' OpenWeatherMap forecast was recorded.
let fixtureTime = Date(timeIntervalSince1970: 1_742_495_276)

/// Runs `body` against a router with the project's ProblemMiddleware and `components`' routes.
func withSimulators(
    _ components: [any Component],
    over setup: TestingSetup = .router,
    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let router = Router()
    router.add(middleware: ProblemMiddleware())
    for component in components { try component.addRoutes(to: router) }
    try await Application(router: router).test(setup, body)
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var data: Data { Data(buffer: body) }

    func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: data)
    }

    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }
}

/// The text of a recorded upstream response under `Tests/WeatherDashboardTests/Fixtures/` (shared by the
/// simulators' tests and the dashboard's client tests).
func fixture(_ path: String) throws -> Data {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return try Data(contentsOf: root.appendingPathComponent("WeatherDashboardTests/Fixtures").appendingPathComponent(path))
}

/// A JSON document's structure: every member path with its JSON type (`main.temp: number`,
/// `list[].weather[].id: number`), to compare a simulated body with a recorded one.
enum JSONShape {
    static func of(_ data: Data) throws -> [String: String] {
        var shape: [String: String] = [:]
        collect(try JSONDecoder().decode(Node.self, from: data), path: "$", into: &shape)
        return shape
    }

    private static func collect(_ node: Node, path: String, into shape: inout [String: String]) {
        switch node {
        case .null: shape[path] = shape[path] ?? "null"
        case .bool: shape[path] = "bool"
        case .number: shape[path] = "number"
        case .string: shape[path] = "string"
        case .array(let items):
            shape[path] = "array"
            for item in items { collect(item, path: path + "[]", into: &shape) }
        case .object(let members):
            shape[path] = "object"
            for (key, value) in members { collect(value, path: path + "." + key, into: &shape) }
        }
    }

    /// Object members in document order.
    indirect enum Node: Decodable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([Node])
        case object([(String, Node)])

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            if let container = try? decoder.container(keyedBy: Key.self) {
                self = .object(try container.allKeys.map { ($0.stringValue, try container.decode(Node.self, forKey: $0)) })
                return
            }
            if var container = try? decoder.unkeyedContainer() {
                var items: [Node] = []
                while !container.isAtEnd { items.append(try container.decode(Node.self)) }
                self = .array(items)
                return
            }
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else {
                self = .string(try container.decode(String.self))
            }
        }
    }
}

/// `json` without whitespace outside strings, to compare a pretty-printed fixture with a compact body.
func minified(_ json: String) -> String {
    var output = ""
    var inString = false
    var escaped = false
    for character in json {
        if inString {
            output.append(character)
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                inString = false
            }
        } else if character == "\"" {
            inString = true
            output.append(character)
        } else if !character.isWhitespace {
            output.append(character)
        }
    }
    return output
}

/// Asserts that a simulated body has exactly the recorded body's structure, allowing `optional` paths
/// (members upstream sends only sometimes, such as `rain`) on either side.
func expectSameShape(_ simulated: Data, as recorded: Data, optional: Set<String> = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let simulatedShape = try JSONShape.of(simulated).filter { !optional.contains($0.key) }
    let recordedShape = try JSONShape.of(recorded).filter { !optional.contains($0.key) }
    let missing = recordedShape.filter { simulatedShape[$0.key] == nil }.keys.sorted()
    let extra = simulatedShape.filter { recordedShape[$0.key] == nil }.keys.sorted()
    let retyped = recordedShape.filter { key, type in simulatedShape[key].map { $0 != type && $0 != "null" && type != "null" } ?? false }.keys
        .sorted()
    #expect(missing.isEmpty, "members missing from the simulated body: \(missing)", sourceLocation: sourceLocation)
    #expect(extra.isEmpty, "members upstream does not send: \(extra)", sourceLocation: sourceLocation)
    #expect(retyped.isEmpty, "members with another JSON type than upstream's: \(retyped)", sourceLocation: sourceLocation)
}
