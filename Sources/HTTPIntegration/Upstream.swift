import Foundation
import HTTPTypes
import InterchangeCore

/// A ``ResilientHTTPClient`` bound to one API's base URL, so calls name only paths.
///
/// ```swift
/// let weather = try client.upstream(baseURL: "https://api.openweathermap.org")
/// let current = try await weather.get("/data/2.5/weather", query: ["lat": "51.5", "lon": "-0.12"]).decode(Current.self)
/// ```
public struct Upstream: Sendable {
    public let client: ResilientHTTPClient
    public let baseURL: URL

    /// - Throws: ``ConfigurationError`` naming `baseURL` when it is not an absolute http(s) URL without query or fragment.
    public init(client: ResilientHTTPClient, baseURL: String) throws {
        self.client = client
        self.baseURL = try HTTPURL.parse(baseURL, rules: .baseURL, field: "baseURL")
    }

    /// A request for `path` (relative to the base URL's path) with `query` parameters.
    public func request(
        _ method: HTTPRequest.Method = .get,
        _ path: String,
        query: KeyValuePairs<String, String> = [:],
        headers: HTTPFields = [:],
        options: RequestOptions = RequestOptions()
    ) -> ClientRequest {
        var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)!
        let basePath = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        components.path = basePath + (path.hasPrefix("/") ? path : "/" + path)
        if !query.isEmpty {
            components.queryItems = query.map { URLQueryItem(name: $0.key, value: $0.value) }
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        return ClientRequest(method: method, url: components.url ?? baseURL, headerFields: headers, options: options)
    }

    /// `GET path?query`.
    public func get(
        _ path: String,
        query: KeyValuePairs<String, String> = [:],
        headers: HTTPFields = [:],
        options: RequestOptions = RequestOptions()
    ) async throws -> ClientResponse {
        try await client.send(request(.get, path, query: query, headers: headers, options: options))
    }

    /// `method path` with `body` encoded as JSON.
    public func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        json body: some Encodable & Sendable,
        headers: HTTPFields = [:],
        options: RequestOptions = RequestOptions()
    ) async throws -> ClientResponse {
        var request = request(method, path, headers: headers, options: options)
        try request.setJSONBody(body)
        return try await client.send(request)
    }
}

extension ResilientHTTPClient {
    /// This client bound to `baseURL`.
    public func upstream(baseURL: String) throws -> Upstream {
        try Upstream(client: self, baseURL: baseURL)
    }
}
