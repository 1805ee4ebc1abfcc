/// Why a request to a node failed, with what a caller (or a person reading the CLI's message)
/// needs to act on it.
///
/// The cases separate what a client must treat differently: a node it could not reach at all
/// (nothing was sent, retrying elsewhere is safe), a node that was reached but did not answer
/// in time or dropped the connection (a write may or may not have been applied, as for the
/// server's own `outcome_unknown`), a node that answered with an error (its stable `code` from
/// docs/api.md), and a node that answered with something that is not the API.
public enum CairnClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No connection to `node` could be made: refused, timed out, no route, unknown host.
    /// Nothing was sent.
    case unreachable(node: String, reason: String)
    /// Connected to `node`, but no complete response arrived within `after`. The request may
    /// have taken effect.
    case timedOut(node: String, after: Duration)
    /// `node` closed the connection (or it failed) before the whole response arrived. The
    /// request may have taken effect.
    case connectionLost(node: String, reason: String)
    /// The node answered with an error status and the API's error body: `code` is stable and
    /// meant for programs (docs/api.md, "Errors"), `message` is for people.
    case http(status: Int, code: String, message: String)
    /// The node's answer is not what the API promises (no JSON where JSON is due, missing
    /// members, an oversize body, not HTTP at all).
    case malformedResponse(String)
    /// An argument the client refuses before sending anything (a node that is not
    /// `host:port`, a context with characters no context has).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .unreachable(let node, let reason):
            "cannot reach node \(node): \(reason)"
        case .timedOut(let node, let after):
            "node \(node) did not answer within \(Self.seconds(after)) (a write may or may not have been applied)"
        case .connectionLost(let node, let reason):
            "node \(node) dropped the connection before answering: \(reason) (a write may or may not have been applied)"
        case .http(let status, let code, let message):
            code.isEmpty ? "HTTP \(status): \(message)" : "\(message) (\(code), HTTP \(status))"
        case .malformedResponse(let detail):
            "malformed response from the node: \(detail)"
        case .invalidArgument(let detail):
            detail
        }
    }

    /// `1.5 s`, `10 s`, `0.25 s`.
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        var text = String(Double(milliseconds) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return "\(text) s"
    }
}
