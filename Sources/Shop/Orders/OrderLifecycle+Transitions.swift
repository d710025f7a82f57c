/// The transitions an order may take.
extension OrderLifecycle {
    /// The legal steps, from → to:
    ///
    /// | from | to | when |
    /// |---|---|---|
    /// | pending | awaiting_payment | a checkout session is created (or an event shows one exists) |
    /// | awaiting_payment | paid | a payment of the order's amount and currency succeeded |
    /// | awaiting_payment | expired | every session expired unpaid |
    /// | awaiting_payment | cancelled | a delayed payment failed |
    /// | expired | awaiting_payment | a new session is created (attempt + 1) |
    /// | paid | fulfilled | the order was handed over |
    /// | paid, fulfilled | refunded | the payment was refunded in full |
    /// | cancelled | paid | a success arrives after a failure (money taken wins) |
    ///
    /// Facts that arrive out of order may move an order several steps at once (a refund seen before its payment
    /// takes awaiting_payment straight to refunded): a change is legal when its target is reachable through these
    /// steps (``isReachable(from:to:)``). A fact whose target is not reachable is recorded as `transition.rejected`.
    public static let transitions: [OrderStatus: Set<OrderStatus>] = [
        .pending: [.awaitingPayment],
        .awaitingPayment: [.paid, .expired, .cancelled],
        .expired: [.awaitingPayment],
        .paid: [.fulfilled, .refunded],
        .fulfilled: [.refunded],
        .cancelled: [.paid],
        .refunded: [],
    ]

    /// Whether `to` can be reached from `from` through one or more ``transitions``.
    public static func isReachable(from: OrderStatus, to: OrderStatus) -> Bool {
        var seen: Set<OrderStatus> = []
        var frontier = transitions[from] ?? []
        while let next = frontier.popFirst() {
            if next == to { return true }
            guard seen.insert(next).inserted else { continue }
            frontier.formUnion((transitions[next] ?? []).subtracting(seen))
        }
        return false
    }
}
