/// The products a new shop starts with (seeded by ``ShopStore/prepare()`` into an empty catalog).
public enum ShopCatalog {
    /// Six products in usd, prices in cents.
    public static let seed: [Product] = [
        Product(id: "prod_mug", name: "Interchange mug", description: "Stoneware, 350 ml, dishwasher safe.", unitAmount: 1800, currency: "usd"),
        Product(id: "prod_tshirt", name: "Logo T-shirt", description: "Organic cotton, unisex fit.", unitAmount: 2500, currency: "usd"),
        Product(id: "prod_stickers", name: "Sticker pack", description: "Eight vinyl stickers.", unitAmount: 500, currency: "usd"),
        Product(id: "prod_notebook", name: "Dot-grid notebook", description: "A5, 120 pages.", unitAmount: 1200, currency: "usd"),
        Product(id: "prod_cap", name: "Cap", description: "Embroidered, adjustable.", unitAmount: 2200, currency: "usd"),
        Product(id: "prod_hoodie", name: "Hoodie", description: "Heavyweight fleece, zip front.", unitAmount: 5400, currency: "usd"),
    ]
}
