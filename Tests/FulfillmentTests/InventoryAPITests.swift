import Foundation
import FulfillmentInventory
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import Testing

@Suite("Inventory API: stock and restock through the generated API", .timeLimit(.minutes(1)))
struct InventoryAPITests {
    private func withAPI(_ kind: TestDatabase.Kind, _ body: @Sendable (any TestClientProtocol, InventoryComponent) async throws -> Void) async throws
    {
        try await InventoryHarness.with(kind) { inventory, _ in
            let app = Application(router: try problemRouter(inventory.addRoutes))
            try await app.test(.router) { client in try await body(client, inventory) }
        }
    }

    @Test("the demo SKUs are seeded with price and stock, listed in catalogue order and fetched by SKU", arguments: TestDatabase.kinds)
    func seededStock(kind: TestDatabase.Kind) async throws {
        try await withAPI(kind) { client, _ in
            let list = try objects(try await client.json(.get, "/inventory/api/stock").body)
            #expect(list.map { $0["sku"] as? String } == ["SKU-APPLE", "SKU-PEAR", "SKU-PLUM", "SKU-RARE"])
            #expect(list.map { $0["available"] as? Int } == [100, 50, 10, 1])
            #expect(list.map { $0["priceCents"] as? Int } == [120, 90, 250, 9900])
            #expect(list.allSatisfy { $0["reserved"] as? Int == 0 && $0["currency"] as? String == "usd" })
            let plum = try await client.json(.get, "/inventory/api/stock/SKU-PLUM")
            #expect(plum.status == .ok)
            #expect(try object(plum.body)["available"] as? Int == 10)
        }
    }

    @Test("restock adds to available; a bad quantity or unknown SKU is a problem naming it", arguments: TestDatabase.kinds)
    func restock(kind: TestDatabase.Kind) async throws {
        try await withAPI(kind) { client, inventory in
            let restocked = try await client.json(.post, "/inventory/api/stock/SKU-RARE/restock", #"{"quantity":4}"#)
            #expect(restocked.status == .ok)
            #expect(try object(restocked.body)["available"] as? Int == 5)
            #expect(try await inventory.level("SKU-RARE") == (5, 0))

            for body in [#"{"quantity":0}"#, #"{"quantity":-3}"#, #"{"quantity":1000001}"#, #"{}"#, #"{"quantity":"many"}"#] {
                let answer = try await client.json(.post, "/inventory/api/stock/SKU-RARE/restock", body)
                #expect(answer.status == .badRequest, "\(body)")
                #expect(answer.contentType == "application/problem+json")
                #expect(try object(answer.body)["field"] as? String == "quantity", "\(body): \(String(describing: answer.body))")
            }
            #expect(try await inventory.level("SKU-RARE") == (5, 0))
            for (method, uri, body) in [
                (HTTPRequest.Method.get, "/inventory/api/stock/SKU-NOPE", nil), (.post, "/inventory/api/stock/SKU-NOPE/restock", #"{"quantity":1}"#),
            ] {
                let answer = try await client.json(method, uri, body)
                #expect(answer.status == .notFound, "\(uri)")
                #expect(try object(answer.body)["parameter"] as? String == "sku")
            }
        }
    }

    @Test("the service serves its OpenAPI document at /inventory/api/openapi.yaml")
    func servesItsDocument() async throws {
        try await withAPI(.sqlite) { client, _ in
            try await client.execute(uri: "/inventory/api/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("/inventory/api/stock/{sku}/restock"))
            }
        }
    }
}
