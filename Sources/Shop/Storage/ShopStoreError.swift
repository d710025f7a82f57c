/// Why the shop's store refused a request; each case names what is wrong so the API can answer a problem naming it.
public enum ShopStoreError: Error, Sendable, Hashable {
    /// An order without lines.
    case emptyOrder
    /// Line `lineIndex` (0-based) asks for a quantity outside ``OrderLine/quantityRange``.
    case invalidQuantity(lineIndex: Int, quantity: Int)
    /// Line `lineIndex` (0-based) names a product that is not in the catalog.
    case unknownProduct(lineIndex: Int, productID: String)
    /// No order has this id.
    case orderNotFound(String)
    /// The order cannot be checked out in its status (paid, cancelled, …, or a payment is processing).
    case notPayable(orderID: String, status: OrderStatus)
}
