import Foundation
import HTTPIntegration

/// A call to the users or inventory service that gave no usable answer (as opposed to a clear "no such user").
struct UpstreamError: Error, CustomStringConvertible {
    /// `users` or `inventory`.
    var upstream: String
    /// True when the service could not be reached or was unavailable (503 to our caller); false when it answered
    /// something unusable (502).
    var unavailable: Bool
    var underlying: any Error

    var description: String { "\(upstream): \(underlying)" }

    init(upstream: String, _ error: any Error) {
        self.upstream = upstream
        self.underlying = error
        if let error = error as? HTTPIntegrationError {
            switch error.code {
            case .transport, .timeout, .circuitOpen, .bulkheadFull, .rateLimited: unavailable = true
            case .unsuccessfulStatus: unavailable = (error.status?.code ?? 500) >= 500 && error.status?.code != 501
            default: unavailable = false
            }
        } else {
            unavailable = false
        }
    }
}
