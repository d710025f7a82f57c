import Persistence

extension ShopStore {
    /// The shop's schema, oldest first.
    public static let migrations: [Migration] = []
}
