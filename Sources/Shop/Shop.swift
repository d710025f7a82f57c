/// The shop reference system: products, orders, payment through Stripe Checkout, Stripe webhooks (docs/shop.md).
public enum ShopInfo {
    /// Where the shop lives under `interchange up` and `interchange serve shop`.
    public static let basePath = "/shop"
}
