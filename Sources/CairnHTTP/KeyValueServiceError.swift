import CairnCore

/// A failure of the service that the client must be told about, with the particulars to tell.
///
/// Each code maps to one HTTP status (docs/api.md): a quorum that could not be reached is 503
/// (nothing says the request cannot succeed later), a timeout and an unknown outcome are 504
/// (the write may have taken effect; DESIGN.md §2 forbids reporting it as failed), the sibling
/// cap is 409 (the client must resolve the siblings with a context), a condition not met is 412,
/// an unknown node in a cluster admin request is 404 and a membership change the node's state
/// forbids is 409.
public struct KeyValueServiceError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        /// Fewer replicas answered than the request needed; nothing is known to be written
        /// beyond `acknowledged` replicas.
        case quorumUnavailable
        /// The request did not complete in time.
        case timeout
        /// A write was sent but its outcome is not known (a CAS that timed out after proposing).
        case outcomeUnknown
        /// A write would leave more siblings than the cap allows.
        case siblingLimitExceeded
        /// A write would leave the key's object (its siblings and history) over the object
        /// budget, or with more writers than a write may leave.
        case objectTooLarge
        /// The node sheds load; try again later.
        case overloaded
        /// The node cannot serve now (starting, leaving, shutting down).
        case unavailable
        /// A cluster admin request names a node that is not a member.
        case nodeNotFound
        /// A cancel names no transfer this node is sending.
        case transferNotFound
        /// An anti-entropy order names a partition this node does not replicate.
        case notAReplica
        /// A membership change that the member's status forbids (leaving a node that has left,
        /// removing the serving node itself, …).
        case membershipConflict
        /// A commit whose plan is no longer the cluster's (its ring moved, or joins changed).
        case planStale
        /// A PUT or DELETE of a key that compare-and-set manages: write it with CAS.
        case casManaged
        /// A conditional write (`If-Match`, `If-None-Match`) whose condition the key's current
        /// state does not meet: nothing was written.
        case preconditionFailed
    }

    public var code: Code
    public var message: String
    /// Replicas the request needed (R, W or a CAS majority), for `quorumUnavailable`.
    public var required: Int?
    /// Replicas that answered, for `quorumUnavailable`.
    public var acknowledged: Int?
    /// The limit exceeded, for `siblingLimitExceeded`.
    public var limit: Int?
    /// Seconds after which a retry may succeed, for `overloaded` and `unavailable`.
    public var retryAfterSeconds: Int?
    /// What the key holds now, for `preconditionFailed`: the context of the read that decided.
    public var context: CausalContext?

    public init(
        _ code: Code, _ message: String, required: Int? = nil, acknowledged: Int? = nil, limit: Int? = nil,
        retryAfterSeconds: Int? = nil, context: CausalContext? = nil
    ) {
        self.code = code
        self.message = message
        self.required = required
        self.acknowledged = acknowledged
        self.limit = limit
        self.retryAfterSeconds = retryAfterSeconds
        self.context = context
    }

    /// `required` replicas were needed and only `acknowledged` answered.
    public static func quorumUnavailable(required: Int, acknowledged: Int) -> KeyValueServiceError {
        KeyValueServiceError(
            .quorumUnavailable, "\(acknowledged) of \(required) required replicas answered",
            required: required, acknowledged: acknowledged)
    }


    /// The write would leave more than `limit` siblings.
    public static func siblingLimitExceeded(limit: Int) -> KeyValueServiceError {
        KeyValueServiceError(
            .siblingLimitExceeded,
            "the write would leave more than \(limit) siblings; read the key and write with its context to resolve them",
            limit: limit)
    }

    /// The write would leave the key's object over what a write may leave (`message` says
    /// which bound: bytes or writers).
    public static func objectTooLarge(_ message: String, limit: Int?) -> KeyValueServiceError {
        KeyValueServiceError(.objectTooLarge, message, limit: limit)
    }

    /// The key's current state, whose context is `current`, does not meet the write's condition.
    public static func preconditionFailed(current: CausalContext) -> KeyValueServiceError {
        KeyValueServiceError(
            .preconditionFailed, "the key does not meet the write's condition (If-Match or If-None-Match); nothing was written",
            context: current)
    }

    /// No member has the id or address `node`.
    public static func nodeNotFound(_ node: String) -> KeyValueServiceError {
        KeyValueServiceError(.nodeNotFound, "no member has the id or address \(node)")
    }

    /// The membership change cannot be made, for the reason given.
    public static func membershipConflict(_ reason: String) -> KeyValueServiceError {
        KeyValueServiceError(.membershipConflict, reason)
    }

    public var description: String { "\(code): \(message)" }
}

extension APIError {
    /// The client's view of a service failure.
    init(_ error: KeyValueServiceError) {
        var detail: [String: JSONValue] = [:]
        if let required = error.required { detail["required"] = .integer(Int64(required)) }
        if let acknowledged = error.acknowledged { detail["acknowledged"] = .integer(Int64(acknowledged)) }
        if let limit = error.limit { detail["limit"] = .integer(Int64(limit)) }
        var headers: [(name: String, value: String)] = []
        if let retryAfter = error.retryAfterSeconds {
            detail["retry_after_seconds"] = .integer(Int64(retryAfter))
            headers.append((name: "Retry-After", value: String(retryAfter)))
        }
        if let context = error.context, !context.isEmpty {
            headers.append((name: APIRequest.contextHeader, value: APIResponse.contextToken(context)))
        }
        let code: Code =
            switch error.code {
            case .quorumUnavailable: .quorumUnavailable
            case .timeout: .timeout
            case .outcomeUnknown: .outcomeUnknown
            case .siblingLimitExceeded: .siblingLimitExceeded
            case .objectTooLarge: .objectTooLarge
            case .overloaded: .overloaded
            case .unavailable: .unavailable
            case .nodeNotFound: .nodeNotFound
            case .transferNotFound: .transferNotFound
            case .notAReplica: .notAReplica
            case .membershipConflict: .membershipConflict
            case .planStale: .planStale
            case .casManaged: .casManaged
            case .preconditionFailed: .preconditionFailed
            }
        self.init(code, error.message, detail: detail, headers: headers)
    }
}
