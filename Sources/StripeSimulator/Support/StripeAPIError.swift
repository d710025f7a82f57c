import HTTPTypes

/// An error as Stripe's API answers it: an HTTP status and `{"error":{"type","code","message","param",…}}`.
///
/// The constructors carry Stripe's wording and codes for the cases the simulator produces, so every route says
/// the same thing the same way.
public struct StripeAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// `invalid_request_error`, `idempotency_error`, `card_error`, `api_error`.
    public var type: String
    public var code: String?
    public var message: String
    public var param: String?
    /// Card errors: `generic_decline`, `insufficient_funds`.
    public var declineCode: String?
    /// A parameter failed validation before the request began to execute: Stripe does not save such answers for
    /// an idempotency key, so the same key can be retried with corrected parameters.
    public var isValidation: Bool
    /// More members of the error object, as a card error carries `charge`, `payment_intent` and `payment_method`.
    var attachments: [String: StripeJSON] = [:]

    public init(
        status: HTTPResponse.Status,
        type: String = "invalid_request_error",
        code: String? = nil,
        message: String,
        param: String? = nil,
        declineCode: String? = nil,
        isValidation: Bool = false
    ) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.param = param
        self.declineCode = declineCode
        self.isValidation = isValidation
    }

    public var description: String { "\(status.code) \(type)\(code.map { "/\($0)" } ?? ""): \(message)" }

    /// The response body.
    public var json: StripeJSON {
        var error: StripeJSON = ["message": .string(message), "type": .string(type)]
        if let code {
            error["code"] = .string(code)
            error["doc_url"] = .string("https://stripe.com/docs/error-codes/\(code.replacingOccurrences(of: "_", with: "-"))")
        }
        if let declineCode { error["decline_code"] = .string(declineCode) }
        if let param { error["param"] = .string(param) }
        for (key, value) in attachments.sorted(by: { $0.key < $1.key }) { error[key] = value }
        return ["error": error]
    }

    // MARK: Stripe's cases

    static func missing(_ param: String) -> StripeAPIError {
        StripeAPIError(status: .badRequest, code: "parameter_missing", message: "Missing required param: \(param).", param: param, isValidation: true)
    }

    static func invalidInteger(_ param: String, _ value: String) -> StripeAPIError {
        StripeAPIError(status: .badRequest, code: "parameter_invalid_integer", message: "Invalid integer: \(value)", param: param, isValidation: true)
    }

    static func unknown(_ param: String) -> StripeAPIError {
        StripeAPIError(
            status: .badRequest,
            code: "parameter_unknown",
            message: "Received unknown parameter: \(param)",
            param: param,
            isValidation: true
        )
    }

    static func emptyString(_ param: String) -> StripeAPIError {
        StripeAPIError(
            status: .badRequest,
            code: "parameter_invalid_empty",
            message:
                "You passed an empty string for '\(param)'. We assume empty values are an attempt to unset a parameter; however '\(param)' cannot be unset. You should remove '\(param)' from your request or supply a non-empty value.",
            param: param,
            isValidation: true
        )
    }

    static func invalid(_ param: String, _ message: String, code: String? = nil) -> StripeAPIError {
        StripeAPIError(status: .badRequest, code: code, message: message, param: param, isValidation: true)
    }

    /// A path's object does not exist (404), or a parameter names one that does not (400).
    static func noSuch(_ objectName: String, _ id: String, param: String = "id", status: HTTPResponse.Status = .notFound) -> StripeAPIError {
        StripeAPIError(status: status, code: "resource_missing", message: "No such \(objectName): '\(id)'", param: param)
    }

    static func unrecognizedURL(method: String, path: String) -> StripeAPIError {
        StripeAPIError(
            status: .notFound,
            message:
                "Unrecognized request URL (\(method): \(path)). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
        )
    }

    static let noAPIKey = StripeAPIError(
        status: .unauthorized,
        message:
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
    )

    static func invalidAPIKey(_ key: String) -> StripeAPIError {
        StripeAPIError(status: .unauthorized, message: "Invalid API Key provided: \(masked(key))")
    }

    static func idempotencyMismatch(_ key: String) -> StripeAPIError {
        StripeAPIError(
            status: .badRequest,
            type: "idempotency_error",
            message:
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '\(key)' if you meant to execute a different request."
        )
    }

    static let idempotencyInProgress = StripeAPIError(
        status: .conflict,
        type: "idempotency_error",
        message:
            "There is currently another in-progress request using this Stripe API key and idempotency key. Please try again later."
    )

    /// `sk_test_abcdefgh1234` → `sk_test_********1234`, as Stripe shows a key it does not accept.
    static func masked(_ key: String) -> String {
        let prefix = ["sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_"].first { key.hasPrefix($0) } ?? ""
        let body = key.dropFirst(prefix.count)
        guard body.count > 4 else { return prefix + String(repeating: "*", count: body.count) }
        return prefix + String(repeating: "*", count: body.count - 4) + body.suffix(4)
    }
}
