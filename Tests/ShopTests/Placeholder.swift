import Shop
import Testing

@Test func shopLivesUnderShop() {
    #expect(ShopInfo.basePath == "/shop")
}
