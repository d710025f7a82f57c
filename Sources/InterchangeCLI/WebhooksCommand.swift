import ArgumentParser
import Foundation
import HTTPTypes
import WebhooksOutbound
import WebhooksSigning

/// `interchange webhooks …`: tools for people debugging webhooks by hand, and the admin client.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Sign and verify webhook payloads; manage endpoints and deliveries of a running Interchange.",
        subcommands: [Sign.self, Verify.self, Endpoints.self, Publish.self, Deliveries.self, Replay.self]
    )

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the signature headers for the body on standard input, one 'Name: value' a line.",
            discussion: """
                Examples:
                  echo -n '{"id":"evt_1"}' | interchange webhooks sign --scheme stripe --secret whsec_abc
                  interchange webhooks sign --scheme standard --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --id msg_1 < body.json
                """
        )

        @Option(help: "stripe or standard (Standard Webhooks).") var scheme: WebhookSignatureScheme
        @Option(help: "The signing secret; repeat to sign with several (rotation).") var secret: [String]
        @Option(help: "Message id (standard scheme). Default: a new msg_… id.") var id: String?
        @Option(help: "Unix timestamp to sign. Default: now.") var timestamp: Int64?

        func validate() throws {
            guard !secret.isEmpty else { throw ValidationError("--secret is required") }
        }

        func run() throws {
            let body = FileHandle.standardInput.readDataToEndOfFile()
            let date = timestamp.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
            do {
                let headers = try WebhookSigner(scheme: scheme).sign(
                    payload: body,
                    secrets: secret,
                    id: scheme == .standard ? (id ?? WebhookSigner.generateMessageID()) : id,
                    timestamp: date
                )
                for field in headers.fields { print("\(field.name): \(field.value)") }
            } catch let error as WebhookVerificationError {
                throw ValidationError("cannot sign: \(error)")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the body on standard input against signature headers; exit 0 when valid, 1 with the reason otherwise.",
            discussion: """
                Example:
                  interchange webhooks verify --scheme stripe --secret whsec_abc --header 'Stripe-Signature: t=1700000000,v1=5257a8…' < body.json
                """
        )

        @Option(help: "stripe or standard (Standard Webhooks).") var scheme: WebhookSignatureScheme
        @Option(help: "An accepted secret; repeat for several (rotation).") var secret: [String]
        @Option(name: .customLong("header"), help: "A received header as 'Name: value'; repeat for each.") var headers: [String] = []
        @Option(help: "Largest accepted age (or clock skew) of the signature, in seconds.") var tolerance: Int64 = 300
        @Option(help: "The current time as a Unix timestamp (to check an old capture). Default: now.") var now: Int64?

        func validate() throws {
            guard !secret.isEmpty else { throw ValidationError("--secret is required") }
            guard tolerance >= 0 else { throw ValidationError("--tolerance must not be negative") }
            for header in headers where !header.contains(":") {
                throw ValidationError("--header '\(header.prefix(40))' is not in 'Name: value' form")
            }
        }

        func run() throws {
            let body = FileHandle.standardInput.readDataToEndOfFile()
            var received: [(String, String)] = []
            for header in headers {
                guard let colon = header.firstIndex(of: ":") else { continue }
                let name = header[..<colon].trimmingCharacters(in: .whitespaces)
                let value = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                received.append((name.lowercased(), value))
            }
            let signer = WebhookSigner(scheme: scheme, tolerance: .seconds(tolerance))
            let at = now.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
            do {
                _ = try signer.verify(
                    payload: body,
                    headers: { name in received.first { $0.0 == name.lowercased() }?.1 },
                    secrets: secret,
                    now: at
                )
                print("valid")
            } catch let error as WebhookVerificationError {
                FileHandle.standardError.write(Data("invalid webhook: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}

extension WebhookSignatureScheme: ExpressibleByArgument {}
