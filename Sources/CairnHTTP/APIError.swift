import NIOHTTP1

/// A request the API refuses or could not serve, as the client sees it: a status, a stable code,
/// a message for people and, where useful, details for programs.
///
/// Every error the API returns has the body `{"error": {"code": ..., "message": ...,
/// "detail": {...}?}}` (docs/api.md lists the codes). Codes are part of the API; messages are
/// not and may change. Messages name the offending parameter, header or limit, never a stored
/// value.
public struct APIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stable, machine-readable reason. The raw value is what the body's `code` says.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        // Routing.
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case invalidURI = "invalid_uri"
        // Keys and parameters.
        case emptyKey = "empty_key"
        case keyTooLong = "key_too_long"
        case unknownParameter = "unknown_parameter"
        case duplicateParameter = "duplicate_parameter"
        case invalidParameter = "invalid_parameter"
        case invalidTTL = "invalid_ttl"
        // Headers and bodies.
        case invalidContext = "invalid_context"
        case invalidHeader = "invalid_header"
        case unsupportedMediaType = "unsupported_media_type"
        case invalidJSON = "invalid_json"
        case invalidBody = "invalid_body"
        case invalidBase64 = "invalid_base64"
        case unexpectedBody = "unexpected_body"
        case valueTooLarge = "value_too_large"
        case bodyTooLarge = "body_too_large"
        case badRequest = "bad_request"
        case headersTooLarge = "headers_too_large"
        /// The request's headers or body arrived too slowly (408).
        case requestTimeout = "request_timeout"
        /// Plain HTTP sent to a port that speaks HTTPS (400, as nginx's 497).
        case tlsRequired = "tls_required"
        /// No token, or not one of the node's, on a node that authenticates clients (401).
        case unauthorized = "unauthorized"
        /// A token whose role does not allow the request (403).
        case forbidden = "forbidden"
        // Results and failures of the service.
        case keyNotFound = "key_not_found"
        case siblingLimitExceeded = "sibling_limit_exceeded"
        /// The write would leave the key's object over the object budget (409): resolve the
        /// siblings with a context.
        case objectTooLarge = "object_too_large"
        case quorumUnavailable = "quorum_unavailable"
        case unavailable = "unavailable"
        case overloaded = "overloaded"
        case timeout = "timeout"
        case outcomeUnknown = "outcome_unknown"
        case nodeNotFound = "node_not_found"
        case transferNotFound = "transfer_not_found"
        case notAReplica = "not_a_replica"
        case membershipConflict = "membership_conflict"
        case planStale = "plan_stale"
        case casManaged = "cas_managed"
        case preconditionFailed = "precondition_failed"
        case internalError = "internal_error"

        /// The status every error with this code is sent with.
        public var status: HTTPResponseStatus {
            switch self {
            case .notFound, .keyNotFound, .nodeNotFound, .transferNotFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .invalidURI, .emptyKey, .keyTooLong, .unknownParameter, .duplicateParameter, .invalidParameter,
                .invalidTTL, .invalidContext, .invalidHeader, .invalidJSON, .invalidBody, .invalidBase64,
                .unexpectedBody, .badRequest, .tlsRequired:
                .badRequest
            case .unsupportedMediaType: .unsupportedMediaType
            case .valueTooLarge, .bodyTooLarge: .payloadTooLarge
            case .headersTooLarge: .requestHeaderFieldsTooLarge
            case .requestTimeout: .requestTimeout
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .siblingLimitExceeded, .objectTooLarge, .membershipConflict, .planStale, .casManaged, .notAReplica: .conflict
            case .preconditionFailed: .preconditionFailed
            case .quorumUnavailable, .unavailable, .overloaded: .serviceUnavailable
            case .timeout, .outcomeUnknown: .gatewayTimeout
            case .internalError: .internalServerError
            }
        }
    }

    public var code: Code
    public var message: String
    /// Machine-readable particulars (the limit exceeded, replicas required and reached, …).
    public var detail: [String: JSONValue]
    /// Headers the response must carry (`Allow` on 405, `Retry-After` on 503, …).
    public var headers: [(name: String, value: String)]

    public init(_ code: Code, _ message: String, detail: [String: JSONValue] = [:], headers: [(name: String, value: String)] = []) {
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = headers
    }

    public var status: HTTPResponseStatus { code.status }

    /// The response body: `{"error": {"code", "message", "detail"?}}`.
    public var body: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code.rawValue), "message": .string(message)]
        if !detail.isEmpty { error["detail"] = .object(detail) }
        return ["error": .object(error)]
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func == (a: APIError, b: APIError) -> Bool {
        a.code == b.code && a.message == b.message && a.detail == b.detail
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
        hasher.combine(detail)
        for header in headers {
            hasher.combine(header.name)
            hasher.combine(header.value)
        }
    }
}
