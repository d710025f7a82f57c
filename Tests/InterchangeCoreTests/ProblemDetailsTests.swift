import Foundation
import InterchangeCore
import Testing

@Suite("ProblemDetails and JSONValue")
struct ProblemDetailsTests {
    @Test("extension members are written at the top level and read back")
    func roundTrip() throws {
        let problem = ProblemDetails(status: 400, title: "Invalid parameter", detail: "city: must not be empty", extensions: ["parameter": "city"])
        let json = String(decoding: try JSONEncoder().encode(problem), as: UTF8.self)
        #expect(json.contains(#""parameter":"city""#))
        #expect(json.contains(#""status":400"#))
        #expect(try JSONDecoder().decode(ProblemDetails.self, from: Data(json.utf8)) == problem)
    }

    @Test("members of the wrong type are ignored, as RFC 9457 asks")
    func lenient() throws {
        let problem = try JSONDecoder().decode(
            ProblemDetails.self,
            from: Data(#"{"title":"Oops","status":"five hundred","detail":7,"code":42}"#.utf8)
        )
        #expect(problem.title == "Oops")
        #expect(problem.status == 0)
        #expect(problem.detail == nil)
        #expect(problem.type == "about:blank")
        #expect(problem.extensions["code"] == 42)
    }

    @Test("ConfigurationError names the field, nests, and shows its source")
    func configurationError() {
        let error = ConfigurationError(field: "maxAttempts", reason: "must be at least 1 (got 0)").nested(under: "retry")
        #expect(error.description == "retry.maxAttempts: must be at least 1 (got 0)")
        let sourced = ConfigurationError(field: "port", reason: "bad", source: "flag --port")
        #expect(sourced.description == "port (from flag --port): bad")
    }

    @Test("JSONValue keeps integers integral and reads nested members")
    func jsonValue() throws {
        let value: JSONValue = ["a": [1, 2.5, "x", nil, true]]
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        #expect(json == #"{"a":[1,2.5,"x",null,true]}"#)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))["a"] == [1, 2.5, "x", nil, true])
    }
}
