/// One line of an order as placed: what, how many, at which unit price (integer cents).
public struct OrderLine: Codable, Sendable, Hashable {
    public var sku: String
    public var quantity: Int
    public var unitPriceCents: Int

    public init(sku: String, quantity: Int, unitPriceCents: Int) {
        self.sku = sku
        self.quantity = quantity
        self.unitPriceCents = unitPriceCents
    }
}

/// A quantity of one SKU: what is reserved, released or asked for.
public struct StockLine: Codable, Sendable, Hashable {
    public var sku: String
    public var quantity: Int

    public init(sku: String, quantity: Int) {
        self.sku = sku
        self.quantity = quantity
    }
}

extension OrderLine {
    /// The line without its price.
    public var stockLine: StockLine { StockLine(sku: sku, quantity: quantity) }
}
