import Foundation
import HTTPIntegration

/// Asks the inventory service for a SKU's price (`GET /inventory/api/stock/{sku}`): orders never reads inventory's
/// tables, and never takes a price from its caller.
struct InventoryClient: Sendable {
    let http: ResilientHTTPClient
    /// `http://host:port`, without `/inventory/api`.
    let baseURL: @Sendable () -> String

    /// A SKU's price as inventory lists it.
    struct Price: Sendable, Hashable, Decodable {
        var sku: String
        var priceCents: Int
        var currency: String
    }

    /// The SKU's price, or nil when inventory does not know it (404).
    ///
    /// - Throws: ``UpstreamError`` when it could not say.
    func price(of sku: String) async throws -> Price? {
        do {
            let response = try await http.get("\(baseURL())/inventory/api/stock/\(sku)")
            if response.status.code == 404 { return nil }
            let price = try response.decode(Price.self)
            guard price.sku == sku, price.priceCents >= 0, !price.currency.isEmpty else {
                throw UpstreamAnswerUnusable(detail: "stock of \(sku) came back as \(price)")
            }
            return price
        } catch {
            throw UpstreamError(upstream: "inventory", error)
        }
    }
}

/// An answer that decoded but makes no sense (another SKU, a negative price).
struct UpstreamAnswerUnusable: Error, CustomStringConvertible {
    var detail: String
    var description: String { detail }
}
