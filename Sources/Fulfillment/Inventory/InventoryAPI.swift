import Foundation
import InterchangeCore
import OpenAPIRuntime
import ServiceRuntime

/// The inventory API (openapi.yaml): stock and restocking. Refusals are ``ProblemError``s naming the field.
struct InventoryAPI: APIProtocol {
    let store: InventoryStore

    static let maxRestock = 1_000_000

    func listStock(_ input: Operations.ListStock.Input) async throws -> Operations.ListStock.Output {
        .ok(.init(body: .json(try await store.stock().map(Self.stock))))
    }

    func getStock(_ input: Operations.GetStock.Input) async throws -> Operations.GetStock.Output {
        guard let item = try await store.stock(sku: input.path.sku) else { throw Self.unknownSKU(input.path.sku) }
        return .ok(.init(body: .json(Self.stock(item))))
    }

    func restock(_ input: Operations.Restock.Input) async throws -> Operations.Restock.Output {
        guard case .json(let body) = input.body else { throw ProblemError.invalidBody("must be application/json") }
        guard (1...Self.maxRestock).contains(body.quantity) else {
            throw ProblemError.invalidBody("must be 1 to \(Self.maxRestock) (got \(body.quantity))", field: "quantity")
        }
        do {
            return .ok(.init(body: .json(Self.stock(try await store.restock(sku: input.path.sku, quantity: body.quantity)))))
        } catch InventoryStoreError.unknownSKU(let sku) {
            throw Self.unknownSKU(sku)
        }
    }

    static func stock(_ item: StockItem) -> Components.Schemas.Stock {
        .init(
            sku: item.sku,
            name: item.name,
            priceCents: item.priceCents,
            currency: item.currency,
            available: item.available,
            reserved: item.reserved
        )
    }

    static func unknownSKU(_ sku: String) -> ProblemError {
        ProblemError(
            ProblemDetails(
                status: 404,
                title: "Not Found",
                detail: "no SKU \(sku)",
                type: ProblemError.typeBase + "not-found",
                extensions: ["parameter": .string("sku")]
            )
        )
    }
}
