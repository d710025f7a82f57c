/// Something the shop sells, at a price in the currency's minor units (cents for `usd`).
public struct Product: Sendable, Hashable, Codable {
    /// `prod_…`
    public var id: String
    public var name: String
    public var description: String
    /// The price of one, in minor units.
    public var unitAmount: Int
    /// A lowercase ISO 4217 code, as Stripe spells it (`usd`).
    public var currency: String

    public init(id: String, name: String, description: String, unitAmount: Int, currency: String) {
        self.id = id
        self.name = name
        self.description = description
        self.unitAmount = unitAmount
        self.currency = currency
    }
}
