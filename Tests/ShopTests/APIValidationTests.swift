import Foundation
import InterchangeTesting
import Testing

@testable import Shop

/// What `POST /shop/api/orders` and the order routes refuse, and how: problem+json naming the field or parameter,
/// nothing stored.
@Suite(.timeLimit(.minutes(1)))
struct APIValidationTests {
    func expectProblem(
        _ answer: ShopHarness.Answer,
        status: Int,
        field: String? = nil,
        parameter: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(answer.status == status, "\(answer.text)", sourceLocation: sourceLocation)
        #expect(answer.header("Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
        let problem = try answer.json()
        #expect(problem["status"] as? Int == status, sourceLocation: sourceLocation)
        #expect(problem["title"] is String, sourceLocation: sourceLocation)
        if let field { #expect(problem["field"] as? String == field, "\(problem)", sourceLocation: sourceLocation) }
        if let parameter { #expect(problem["parameter"] as? String == parameter, "\(problem)", sourceLocation: sourceLocation) }
    }

    @Test func anEmptyOrderIsA400NamingLines() async throws {
        try await ShopHarness.run(simulator: false) { shop in
            try expectProblem(try await shop.request(.post, "/shop/api/orders", body: #"{"lines":[]}"#), status: 400, field: "lines")
            #expect(try await shop.count("shop_orders") == 0)
        }
    }

    @Test(arguments: [0, -1, 100])
    func aQuantityOutsideOneTo99IsA400NamingTheLine(quantity: Int) async throws {
        try await ShopHarness.run(simulator: false) { shop in
            let product = try await shop.productID()
            let body =
                #"{"lines":[{"productId":"\#(product)","quantity":1},{"productId":"\#(product)","quantity":2},"#
                + #"{"productId":"\#(product)","quantity":\#(quantity)}]}"#
            try expectProblem(try await shop.request(.post, "/shop/api/orders", body: body), status: 400, field: "lines[2].quantity")
            #expect(try await shop.count("shop_orders") == 0)
        }
    }

    @Test func anUnknownProductIsA404NamingTheLine() async throws {
        try await ShopHarness.run(simulator: false) { shop in
            let product = try await shop.productID()
            let body = #"{"lines":[{"productId":"\#(product)","quantity":1},{"productId":"prod_nope","quantity":1}]}"#
            try expectProblem(try await shop.request(.post, "/shop/api/orders", body: body), status: 404, field: "lines[1].productId")
            #expect(try await shop.count("shop_orders") == 0)
        }
    }

    @Test func aPriceSentByTheClientIsRefusedNotUsed() async throws {
        try await ShopHarness.run(simulator: false) { shop in
            let product = try await shop.productID()
            let body = #"{"lines":[{"productId":"\#(product)","quantity":1,"unitAmount":1}]}"#
            try expectProblem(try await shop.request(.post, "/shop/api/orders", body: body), status: 400, field: "lines[0].unitAmount")
            #expect(try await shop.count("shop_orders") == 0)
        }
    }

    @Test func aQuantityOfTheWrongTypeIsA400NamingIt() async throws {
        try await ShopHarness.run(simulator: false) { shop in
            let product = try await shop.productID()
            let body = #"{"lines":[{"productId":"\#(product)","quantity":"2"}]}"#
            try expectProblem(try await shop.request(.post, "/shop/api/orders", body: body), status: 400, field: "lines[0].quantity")
        }
    }

    @Test func aBodyThatIsNotJSONIsRefused() async throws {
        try await ShopHarness.run(simulator: false) { shop in
            try expectProblem(try await shop.request(.post, "/shop/api/orders", body: "{lines"), status: 400)
            try expectProblem(try await shop.request(.post, "/shop/api/orders", body: "lines=1", contentType: "text/plain"), status: 415)
        }
    }

    @Test func aValidOrderIs201WithItsLocationAndTheCataloguePrices() async throws {
        try await ShopHarness.run(simulator: false) { shop in
            let products = try await shop.shop.store.products()
            let body = #"{"lines":[{"productId":"\#(products[0].id)","quantity":3}]}"#
            let answer = try await shop.request(.post, "/shop/api/orders", body: body)
            #expect(answer.status == 201)
            let order = try answer.json()
            let id = try #require(order["id"] as? String)
            #expect(answer.header("Location") == "/shop/api/orders/\(id)")
            #expect(order["status"] as? String == "pending")
            #expect(order["paymentStatus"] as? String == "unpaid")
            #expect(order["amountTotal"] as? Int == products[0].unitAmount * 3)
            #expect(order["checkout"] == nil)
            let line = try #require((order["lines"] as? [[String: Any]])?.first)
            #expect(line["unitAmount"] as? Int == products[0].unitAmount)
            #expect(line["amount"] as? Int == products[0].unitAmount * 3)
            #expect(try await shop.order(id)["id"] as? String == id)
        }
    }

    @Test func aMalformedOrderIDIs400AndAnUnknownOneIs404() async throws {
        try await ShopHarness.run(simulator: false) { shop in
            try expectProblem(try await shop.request(.get, "/shop/api/orders/not-an-order"), status: 400, parameter: "orderId")
            try expectProblem(try await shop.request(.get, "/shop/api/orders/ord_doesnotexist"), status: 404, parameter: "orderId")
            try expectProblem(try await shop.request(.post, "/shop/api/orders/ord_doesnotexist/checkout"), status: 404, parameter: "orderId")
        }
    }

    @Test func theCatalogueIsListed() async throws {
        try await ShopHarness.run(simulator: false) { shop in
            let answer = try await shop.request(.get, "/shop/api/products")
            #expect(answer.status == 200)
            let data = try #require(try answer.json()["data"] as? [[String: Any]])
            #expect(!data.isEmpty)
            for product in data {
                #expect((product["id"] as? String)?.hasPrefix("prod_") == true)
                #expect(product["unitAmount"] is Int)
                #expect(product["currency"] as? String == "usd")
            }
        }
    }

    @Test func anOrderIDMustBeOrdAndLettersOrDigits() throws {
        #expect(try ShopAPI.orderID("ord_abc123") == "ord_abc123")
        #expect(throws: (any Error).self) { try ShopAPI.orderID("ord_") }
        #expect(throws: (any Error).self) { try ShopAPI.orderID("ord_é") }
        #expect(throws: (any Error).self) { try ShopAPI.orderID("order_1") }
    }
}
