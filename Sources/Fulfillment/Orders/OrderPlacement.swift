import Foundation
import FulfillmentEvents

/// Checks an order before anything is stored or any saga starts: the shape of each line, the user (users service)
/// and each SKU with its price (inventory service). Plain domain code; the API turns its errors into problems.
struct OrderPlacement: Sendable {
    let users: UsersClient
    let inventory: InventoryClient

    static let maxLines = 50
    static let maxIdentifierLength = 100
    /// The quantities an order line may have.
    static let quantityRange = 1...10_000

    /// What was asked for, before validation.
    struct Request: Sendable {
        var userId: String
        var lines: [(sku: String, quantity: Int)]
    }

    /// A valid order, priced by inventory.
    struct Validated: Sendable {
        var userId: String
        var lines: [OrderLine]
        var currency: String
        var totalCents: Int
    }

    /// Why an order was refused, naming the field (`lines[1].sku`).
    enum Refusal: Error, Equatable {
        case invalid(field: String, detail: String)
        case unknown(field: String, detail: String)
    }

    /// Validates `request`: local checks first (no call is made for an order that is malformed anyway), then the
    /// user, then each distinct SKU once.
    ///
    /// - Throws: ``Refusal`` naming the first bad field; ``UpstreamError`` when users or inventory could not say.
    func validate(_ request: Request) async throws -> Validated {
        try Self.checkShape(request)
        guard try await users.exists(request.userId) else {
            throw Refusal.unknown(field: "userId", detail: "no user '\(request.userId)'")
        }
        var prices: [String: InventoryClient.Price] = [:]
        for (index, line) in request.lines.enumerated() where prices[line.sku] == nil {
            guard let price = try await inventory.price(of: line.sku) else {
                throw Refusal.unknown(field: "lines[\(index)].sku", detail: "no SKU '\(line.sku)' in the inventory")
            }
            prices[line.sku] = price
        }
        let lines = request.lines.map { line in
            OrderLine(sku: line.sku, quantity: line.quantity, unitPriceCents: prices[line.sku]!.priceCents)
        }
        let currency = prices[request.lines[0].sku]!.currency
        if let index = request.lines.indices.first(where: { prices[request.lines[$0].sku]!.currency != currency }) {
            throw Refusal.invalid(
                field: "lines[\(index)].sku",
                detail: "is priced in \(prices[request.lines[index].sku]!.currency), the order in \(currency): one currency per order"
            )
        }
        let total = lines.reduce(0) { $0 + $1.quantity * $1.unitPriceCents }
        return Validated(userId: request.userId, lines: lines, currency: currency, totalCents: total)
    }

    /// The checks that need no other service: sizes, ranges, identifier characters.
    static func checkShape(_ request: Request) throws {
        guard isIdentifier(request.userId, extra: "_-") else {
            throw Refusal.invalid(field: "userId", detail: "must be 1 to \(maxIdentifierLength) letters, digits, '_' or '-'")
        }
        guard !request.lines.isEmpty else { throw Refusal.invalid(field: "lines", detail: "must hold at least one line") }
        guard request.lines.count <= maxLines else {
            throw Refusal.invalid(field: "lines", detail: "must hold at most \(maxLines) lines (got \(request.lines.count))")
        }
        for (index, line) in request.lines.enumerated() {
            guard isIdentifier(line.sku, extra: "_.-") else {
                throw Refusal.invalid(
                    field: "lines[\(index)].sku",
                    detail: "must be 1 to \(maxIdentifierLength) letters, digits, '_', '.' or '-'"
                )
            }
            let range = quantityRange
            guard range.contains(line.quantity) else {
                throw Refusal.invalid(
                    field: "lines[\(index)].quantity",
                    detail: "must be \(range.lowerBound) to \(range.upperBound) (got \(line.quantity))"
                )
            }
        }
    }

    /// ASCII letters, digits and `extra`, 1 to ``maxIdentifierLength`` of them: safe in a URL path as they are.
    static func isIdentifier(_ text: String, extra: String) -> Bool {
        let extraBytes = Set(extra.utf8)
        return (1...maxIdentifierLength).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || extraBytes.contains(byte)
            }
    }
}
