import HTTPTypes
import Hummingbird
import NIOCore

/// Simulator-only controls (not Stripe's API) under `<base>/_sim/`, answering JSON. No API key: they stand for
/// what a customer or a bank does.
extension StripeSimulator {
    func addControlRoutes(to router: Router<BasicRequestContext>) {
        let controls = router.group(RouterPath(configuration.basePath.isEmpty ? "_sim" : "\(configuration.basePath)/_sim"))
        controls.get("") { _, _ in
            self.json(
                .ok,
                [
                    "controls": [
                        .string(
                            "POST \(self.configuration.basePath)/_sim/checkout/sessions/{id}/pay (card=…): pay a session as the hosted page does"
                        ),
                        .string(
                            "POST \(self.configuration.basePath)/_sim/payments/settle (outcome=succeeded|failed, session=cs_…): settle delayed payments now"
                        ),
                        .string("POST \(self.configuration.basePath)/_sim/sweep: settle what is due and expire sessions past expires_at, now"),
                    ],
                    "settlement_delay_seconds": .int(Int(self.configuration.settlementDelay.components.seconds)),
                ]
            )
        }
        controls.post("checkout/sessions/:id/pay") { request, context in
            var request = request
            let body = (try? await request.collectBody(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
            let form = (try? StripeForm(decoding: (request.uri.query.map { $0 + "&" } ?? "") + body)) ?? StripeForm()
            guard let card = form["card"]?.string, !card.isEmpty else {
                return self.json(.badRequest, StripeAPIError.missing("card").json)
            }
            do throws(StripeAPIError) {
                let (outcome, session, events) = try self.state.pay(
                    sessionID: context.parameters.get("id") ?? "",
                    card: card,
                    origin: .automatic,
                    now: Self.unix(self.now()),
                    settlementDelay: Int(self.configuration.settlementDelay.components.seconds)
                )
                await self.publish(events)
                let intent: StripeJSON = session.paymentIntentID.flatMap { id in self.state.read { $0.paymentIntents[id]?.json } } ?? nil
                var answer: StripeJSON = ["outcome": "succeeded", "session": session.json, "payment_intent": intent]
                switch outcome {
                case .succeeded: answer["outcome"] = "succeeded"
                case .processing: answer["outcome"] = "processing"
                case .declined(let decline):
                    answer["outcome"] = "declined"
                    answer["error"] = [
                        "type": "card_error", "code": .string(decline.code), "decline_code": .optional(decline.declineCode),
                        "message": .string(decline.message),
                    ]
                }
                answer["events"] = .array(events.map { .string($0.type) })
                return self.json(.ok, answer)
            } catch {
                return self.json(error.status, error.json)
            }
        }
        controls.post("payments/settle") { request, _ in
            var request = request
            let body = (try? await request.collectBody(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
            let form = (try? StripeForm(decoding: (request.uri.query.map { $0 + "&" } ?? "") + body)) ?? StripeForm()
            let outcome = form["outcome"]?.string ?? "succeeded"
            guard outcome == "succeeded" || outcome == "failed" else {
                return self.json(.badRequest, StripeAPIError.invalid("outcome", "outcome must be succeeded or failed").json)
            }
            let session = form["session"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            let now = Self.unix(self.now())
            let (settled, events) = self.state.settle(dueAt: nil, succeed: outcome == "succeeded", sessionID: session, at: now)
            await self.publish(events)
            return self.json(
                .ok,
                [
                    "outcome": .string(outcome), "settled": .array(settled.map(StripeJSON.string)), "events": .array(events.map { .string($0.type) }),
                ]
            )
        }
        controls.post("sweep") { _, _ in
            let count = await self.sweep()
            return self.json(.ok, ["events": .int(count)])
        }
    }

    func json(_ status: HTTPResponse.Status, _ body: StripeJSON) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body.serialized()))
        )
    }
}
