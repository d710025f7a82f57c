import Testing

@testable import Shop

@Suite struct APIValidationTests {
    @Test func anOrderIDMustBeOrdAndLettersOrDigits() throws {
        #expect(try ShopAPI.orderID("ord_abc123") == "ord_abc123")
        #expect(throws: (any Error).self) { try ShopAPI.orderID("ord_") }
        #expect(throws: (any Error).self) { try ShopAPI.orderID("ord_é") }
    }
}
