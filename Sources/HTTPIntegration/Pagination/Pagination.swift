import Foundation
import HTTPTypes
import InterchangeCore

/// How an API splits a collection into pages.
public enum PaginationStyle: Sendable, Hashable {
    /// Follow RFC 8288 `Link: <…>; rel="next"` (GitHub REST, many others) until there is none.
    case linkHeader
    /// A cursor on the last item (Stripe: `has_more` and `starting_after=<id of last item>`).
    case cursor(CursorPagination)
    /// `?page=1,2,3…` until a page comes back short or empty.
    case pageNumber(parameter: String = "page", firstPage: Int = 1, pageSize: Int? = nil, sizeParameter: String = "per_page")
    /// `?offset=0,n,2n…&limit=n` until a page comes back short or empty.
    case offset(parameter: String = "offset", limitParameter: String = "limit", limit: Int)

    /// Stripe's list API.
    public static let stripe = PaginationStyle.cursor(CursorPagination())
}

/// Field and parameter names for cursor pagination; the defaults are Stripe's.
public struct CursorPagination: Sendable, Hashable {
    public var cursorParameter: String
    public var hasMoreField: String
    public var idField: String

    public init(cursorParameter: String = "starting_after", hasMoreField: String = "has_more", idField: String = "id") {
        self.cursorParameter = cursorParameter
        self.hasMoreField = hasMoreField
        self.idField = idField
    }
}

/// The pages of a paginated collection, fetched lazily as you iterate.
///
/// Each page is a 2xx ``ClientResponse`` (a non-2xx page throws ``HTTPIntegrationError``). Iteration stops
/// at the last page, when a `next` link would leave the first page's origin (a credential-leak guard), when
/// a link repeats (a loop), or after `maxPages` (an error, so a runaway API does not go unnoticed).
///
/// ```swift
/// for try await page in client.pages(of: request, style: .linkHeader) {
///     let repos = try page.decode([Repo].self)
/// }
/// ```
public struct PageSequence: AsyncSequence, Sendable {
    public typealias Element = ClientResponse

    let client: ResilientHTTPClient
    let first: ClientRequest
    let style: PaginationStyle
    let itemsKey: String?
    let maxPages: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: self, next: first)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let sequence: PageSequence
        var next: ClientRequest?
        var fetched = 0
        var seen: Set<String> = []
        var offset = 0
        var page = 0

        init(sequence: PageSequence, next: ClientRequest) {
            self.sequence = sequence
            self.next = next
            if case .pageNumber(_, let firstPage, _, _) = sequence.style { page = firstPage }
        }

        public mutating func next() async throws -> ClientResponse? {
            guard var request = next else { return nil }
            next = nil
            if fetched == 0 { request = prepareFirst(request) }
            guard fetched < sequence.maxPages else {
                throw paginationError(request, "more than \(sequence.maxPages) pages; raise maxPages if this is expected")
            }
            seen.insert(request.url.absoluteString)
            let response = try await sequence.client.send(request).ensureSuccess()
            fetched += 1
            next = try following(request, response)
            if let candidate = next, seen.contains(candidate.url.absoluteString) {
                next = nil  // a cycle: the API pointed back at a page already fetched
            }
            return response
        }

        private func prepareFirst(_ request: ClientRequest) -> ClientRequest {
            var request = request
            switch sequence.style {
            case .pageNumber(let parameter, let firstPage, let pageSize, let sizeParameter):
                request.url = request.url.settingQueryItem(parameter, to: "\(firstPage)")
                if let pageSize { request.url = request.url.settingQueryItem(sizeParameter, to: "\(pageSize)") }
            case .offset(let parameter, let limitParameter, let limit):
                request.url = request.url.settingQueryItem(parameter, to: "0").settingQueryItem(limitParameter, to: "\(limit)")
            case .linkHeader, .cursor:
                break
            }
            return request
        }

        private mutating func following(_ request: ClientRequest, _ response: ClientResponse) throws -> ClientRequest? {
            var next = request
            switch sequence.style {
            case .linkHeader:
                let values = response.headerFields[values: .link]
                guard let link = LinkHeader.parse(values).first(where: { $0.relations.contains("next") }) else { return nil }
                guard let target = URL(string: link.target, relativeTo: request.url)?.absoluteURL else {
                    throw paginationError(request, "next link '\(link.target)' is not a valid URL")
                }
                guard target.scheme == request.url.scheme, target.host == request.url.host, target.port == request.url.port else {
                    throw paginationError(request, "next link leaves the origin (\(target.host ?? "?")); not following it")
                }
                next.url = target
            case .cursor(let cursor):
                let page = try json(response, request)
                guard page[cursor.hasMoreField] == .bool(true) else { return nil }
                guard case .array(let items) = try itemsValue(page, request), let last = items.last,
                    let id = last[cursor.idField]?.stringValue
                else {
                    throw paginationError(request, "\(cursor.hasMoreField) is true but the last item has no '\(cursor.idField)'")
                }
                next.url = request.url.settingQueryItem(cursor.cursorParameter, to: id)
            case .pageNumber(let parameter, _, let pageSize, _):
                let count = try itemCount(response, request)
                if count == 0 || (pageSize.map { count < $0 } ?? false) { return nil }
                page += 1
                next.url = request.url.settingQueryItem(parameter, to: "\(page)")
            case .offset(let parameter, _, let limit):
                let count = try itemCount(response, request)
                if count < limit { return nil }
                offset += count
                next.url = request.url.settingQueryItem(parameter, to: "\(offset)")
            }
            return next
        }

        private func json(_ response: ClientResponse, _ request: ClientRequest) throws -> JSONValue {
            do {
                return try JSONDecoder().decode(JSONValue.self, from: response.body)
            } catch {
                throw HTTPIntegrationError.invalidResponse(response, reason: "page is not JSON", cause: error)
            }
        }

        private func itemsValue(_ page: JSONValue, _ request: ClientRequest) throws -> JSONValue {
            guard let key = sequence.itemsKey else { return page }
            guard let items = page[key] else { throw paginationError(request, "page has no '\(key)' field") }
            return items
        }

        private func itemCount(_ response: ClientResponse, _ request: ClientRequest) throws -> Int {
            guard case .array(let items) = try itemsValue(json(response, request), request) else {
                throw paginationError(request, "page items are not a JSON array")
            }
            return items.count
        }

        private func paginationError(_ request: ClientRequest, _ reason: String) -> HTTPIntegrationError {
            HTTPIntegrationError(
                code: .pagination,
                request: RequestLine(method: request.method, url: Redaction.standard.redact(url: request.url)),
                attempts: fetched,
                reason: reason
            )
        }
    }
}

/// The items of a paginated collection, across pages, fetched lazily as you iterate.
///
/// ```swift
/// for try await charge in client.items(of: request, style: .stripe, itemsKey: "data", as: Charge.self) {
///     total += charge.amount
/// }
/// ```
public struct ItemSequence<Item: Decodable & Sendable>: AsyncSequence, Sendable {
    public typealias Element = Item

    let pages: PageSequence
    let decoder: @Sendable () -> JSONDecoder

    public func makeAsyncIterator() -> Iterator {
        Iterator(pages: pages.makeAsyncIterator(), itemsKey: pages.itemsKey, decoder: decoder())
    }

    public struct Iterator: AsyncIteratorProtocol {
        var pages: PageSequence.Iterator
        let itemsKey: String?
        let decoder: JSONDecoder
        var buffer: [Item] = []
        var index = 0

        public mutating func next() async throws -> Item? {
            while index >= buffer.count {
                guard let page = try await pages.next() else { return nil }
                buffer = try decodeItems(page)
                index = 0
            }
            defer { index += 1 }
            return buffer[index]
        }

        private func decodeItems(_ page: ClientResponse) throws -> [Item] {
            guard let itemsKey else { return try page.decode([Item].self, using: decoder) }
            return try page.decode(KeyedItems<Item>.self, using: keyed(decoder, itemsKey)).items
        }

        private func keyed(_ decoder: JSONDecoder, _ key: String) -> JSONDecoder {
            decoder.userInfo[KeyedItems<Item>.keyInfo] = key
            return decoder
        }
    }
}

/// A page object whose items live under a key given at decode time.
private struct KeyedItems<Item: Decodable>: Decodable {
    static var keyInfo: CodingUserInfoKey { CodingUserInfoKey(rawValue: "interchange.itemsKey")! }
    let items: [Item]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let key = decoder.userInfo[Self.keyInfo] as? String ?? "data"
        items = try decoder.container(keyedBy: Key.self).decode([Item].self, forKey: Key(stringValue: key))
    }
}

extension ResilientHTTPClient {
    /// The pages of the collection `request` starts, in the given style.
    ///
    /// - Parameter itemsKey: the field holding the items in each page (`"data"` for Stripe), or nil when the page
    ///   body is the array itself; used to detect the last page for `.pageNumber`, `.offset` and `.cursor`.
    public func pages(of request: ClientRequest, style: PaginationStyle, itemsKey: String? = nil, maxPages: Int = 1000) -> PageSequence {
        PageSequence(client: self, first: request, style: style, itemsKey: itemsKey, maxPages: maxPages)
    }

    /// The items of the collection `request` starts, decoded as `Item`, across pages.
    public func items<Item: Decodable & Sendable>(
        of request: ClientRequest,
        style: PaginationStyle,
        itemsKey: String? = nil,
        as: Item.Type = Item.self,
        maxPages: Int = 1000,
        decoder: @escaping @Sendable () -> JSONDecoder = { JSONDecoder() }
    ) -> ItemSequence<Item> {
        ItemSequence(pages: pages(of: request, style: style, itemsKey: itemsKey, maxPages: maxPages), decoder: decoder)
    }
}
