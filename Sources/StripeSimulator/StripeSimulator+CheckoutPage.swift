import HTTPTypes
import Hummingbird
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension StripeSimulator {
    /// The hosted payment page (`GET`/`POST <base>/checkout/pay/<cs_id>`): what a session's `url` opens.
    func addCheckoutPageRoutes(to router: Router<BasicRequestContext>) {
        let pages = router.group(RouterPath(configuration.basePath.isEmpty ? "checkout/pay" : "\(configuration.basePath)/checkout/pay"))
        pages.get(":id") { _, context in
            self.page(sessionID: context.parameters.get("id") ?? "", decline: nil, card: "")
        }
        pages.post(":id") { request, context in
            var request = request
            let id = context.parameters.get("id") ?? ""
            let body = (try? await request.collectBody(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
            let card = (try? StripeForm(decoding: body))?["card"]?.string ?? ""
            guard !card.trimmingCharacters(in: .whitespaces).isEmpty else {
                return self.page(
                    sessionID: id,
                    decline: .init(code: "incomplete_number", declineCode: nil, message: "Your card number is incomplete."),
                    card: ""
                )
            }
            let now = Self.unix(self.now())
            do throws(StripeAPIError) {
                let (outcome, session, events) = try self.state.pay(
                    sessionID: id,
                    card: card,
                    origin: .automatic,
                    now: now,
                    settlementDelay: Int(self.configuration.settlementDelay.components.seconds)
                )
                await self.publish(events)
                switch outcome {
                case .succeeded, .processing:
                    let target = session.successURL.replacingOccurrences(of: "{CHECKOUT_SESSION_ID}", with: session.id)
                    return Response(status: .seeOther, headers: [.location: target, .cacheControl: "no-store"])
                case .declined(let decline):
                    return self.page(sessionID: id, decline: decline, card: card)
                }
            } catch {
                return self.page(sessionID: id, decline: nil, card: card)
            }
        }
    }

    /// The page for a session: the form while it is open (with `decline` shown in an alert), else what became of it.
    func page(sessionID: String, decline: TestCard.Decline?, card: String) -> Response {
        guard let session = state.read({ $0.sessions[sessionID] }) else {
            return html(
                status: .notFound,
                title: "Checkout session not found",
                body: """
                    <h1>Checkout session not found</h1>
                    <p>There is no checkout session <code>\(Self.escape(sessionID))</code> in this simulator. Sessions live in memory and are gone after a restart.</p>
                    """
            )
        }
        let total = Self.formatAmount(session.amountTotal, session.currency)
        let rows = session.lineItems.map { item in
            "<tr><th scope=\"row\">\(Self.escape(item.name))</th><td>\(item.quantity)</td><td>\(Self.formatAmount(item.unitAmount, item.currency))</td><td>\(Self.formatAmount(item.amount, item.currency))</td></tr>"
        }.joined(separator: "\n")
        let summary = """
            <table>
            <caption>Order summary</caption>
            <thead><tr><th scope="col">Item</th><th scope="col">Quantity</th><th scope="col">Unit price</th><th scope="col">Amount</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            <tfoot><tr><th scope="row" colspan="3">Total</th><td>\(total)</td></tr></tfoot>
            </table>
            """
        let cancel = session.cancelURL.map { "<p><a href=\"\(Self.escape($0))\">Back / cancel</a></p>" } ?? ""
        let expired = session.status == .expired || session.expiresAt <= Self.unix(now())
        guard session.status == .open, !expired else {
            let message =
                expired
                ? "This checkout session has expired. Return to the shop to start again."
                : "This checkout session is complete: the payment was \(session.paymentStatus == .paid ? "made" : "accepted and is being processed")."
            return html(
                status: .ok,
                title: "Checkout — \(total)",
                body: """
                    <h1>Pay \(total)</h1>
                    \(summary)
                    <p role="status">\(message)</p>
                    \(cancel)
                    """
            )
        }
        let alert = decline.map { "<p id=\"card-error\" class=\"error\" role=\"alert\">\(Self.escape($0.message))</p>" } ?? ""
        let described = decline == nil ? "card-hint" : "card-error card-hint"
        return html(
            status: .ok,
            title: "Checkout — \(total)",
            body: """
                <h1>Pay \(total)</h1>
                \(summary)
                <form method="post" action="\(Self.escape(configuration.basePath))/checkout/pay/\(Self.escape(session.id))">
                \(alert)
                <label for="card">Card number</label>
                <input id="card" name="card" type="text" inputmode="numeric" autocomplete="cc-number" required value="\(Self.escape(card))" aria-describedby="\(described)"\(decline == nil ? "" : " aria-invalid=\"true\" autofocus")>
                <p id="card-hint" class="hint">Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 and 4000 0000 0000 9995 (insufficient funds) fail; 4000 0000 0000 3220 settles later.</p>
                <button type="submit">Pay \(total)</button>
                </form>
                \(cancel)
                """
        )
    }

    private func html(status: HTTPResponse.Status, title: String, body: String) -> Response {
        let document = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.escape(title)) · Stripe simulator</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.5; }
            header { color: #555; font-size: .9rem; }
            table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
            caption { text-align: left; font-weight: 600; }
            th, td { padding: .35rem .25rem; border-bottom: 1px solid #ddd; text-align: left; }
            td:last-child { text-align: right; }
            tfoot th, tfoot td { font-weight: 700; border-bottom: none; }
            label { display: block; font-weight: 600; margin-top: 1rem; }
            input { font-size: 1.1rem; padding: .5rem; width: 100%; box-sizing: border-box; border: 2px solid #555; border-radius: 4px; }
            input:focus, button:focus, a:focus { outline: 3px solid #0a58ca; outline-offset: 2px; }
            .hint { font-size: .9rem; color: #444; }
            .error { color: #8a1c1c; background: #fdecec; border: 1px solid #8a1c1c; padding: .5rem; border-radius: 4px; }
            button { font-size: 1.1rem; padding: .6rem 1.2rem; background: #0a3d91; color: #fff; border: none; border-radius: 4px; cursor: pointer; }
            </style>
            </head>
            <body>
            <header><p>Interchange Stripe simulator — test mode, no real payment is made.</p></header>
            <main>
            \(body)
            </main>
            </body>
            </html>
            """
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: document))
        )
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Currencies without minor units, as Stripe lists them.
    static let zeroDecimalCurrencies: Set<String> = [
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    ]

    /// `1250, "usd"` → `$12.50`.
    static func formatAmount(_ amount: Int, _ currency: String) -> String {
        let symbols = ["usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"]
        let number: String
        if zeroDecimalCurrencies.contains(currency) {
            number = String(amount)
        } else {
            let cents = abs(amount) % 100
            number = "\(amount < 0 ? "-" : "")\(abs(amount) / 100).\(cents < 10 ? "0" : "")\(cents)"
        }
        if let symbol = symbols[currency] { return symbol + number }
        return "\(number) \(currency.uppercased())"
    }
}
