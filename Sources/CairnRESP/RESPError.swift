import CairnHTTP

/// A failure a Redis client is told about: `-CODE message` on the wire.
///
/// The code is the first word, which client libraries read to choose an exception (`ERR` for a
/// request the server refuses, as Redis answers every syntax, arity and limit error); the
/// message is for people and may change. Cairn's own failures of the service get codes of their
/// own (`NOQUORUM`, `TIMEOUT`, `UNKNOWN`, …, docs/resp.md lists them), mirroring the HTTP API's
/// error codes, so a client can tell "try again later" from "the write may have happened".
/// Messages never echo stored values.
public struct RESPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The first word of an error answer. A closed set, each listed with its meaning in
    /// docs/resp.md ("Errors"), which a test keeps in step with this enum.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// A request the server refuses: unknown command, wrong arguments, syntax, a limit,
        /// broken framing, the connection cap.
        case err = "ERR"
        /// `HELLO` with a protocol version other than 2 or 3.
        case noProtocol = "NOPROTO"
        /// Fewer replicas answered than the request needed.
        case noQuorum = "NOQUORUM"
        /// The request did not complete in time.
        case timeout = "TIMEOUT"
        /// A compare-and-set proposed its value and its outcome is not known.
        case unknown = "UNKNOWN"
        /// A write would leave more siblings than the cap.
        case siblingLimit = "SIBLINGLIMIT"
        /// The write would leave the key's object over the object budget.
        case tooLarge = "TOOLARGE"
        /// A command that rewrites one value found several.
        case siblings = "SIBLINGS"
        /// A conditional command found the key changed under it too often.
        case changed = "CHANGED"
        /// A write compare-and-set refuses on a key it manages.
        case casManaged = "CASMANAGED"
        /// The node sheds load.
        case overloaded = "OVERLOADED"
        /// The node cannot serve now, or the command was cancelled.
        case unavailable = "UNAVAILABLE"
        /// The node authenticates clients and this connection has not (Redis's answer).
        case noAuth = "NOAUTH"
        /// `AUTH` with a token that is not the node's (Redis's answer).
        case wrongPass = "WRONGPASS"
    }

    public var code: Code
    public var message: String

    public init(code: Code = .err, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue) \(message)" }

    // MARK: Requests the server refuses (`ERR`)

    static func syntax(_ detail: String? = nil) -> RESPError {
        RESPError("syntax error" + (detail.map { ": " + $0 } ?? ""))
    }

    static func wrongArguments(_ command: String) -> RESPError {
        RESPError("wrong number of arguments for '\(command.lowercased())' command")
    }

    static func notInteger(_ what: String = "value") -> RESPError {
        RESPError("\(what) is not an integer or out of range")
    }

    /// Names the command (its first 64 printable bytes) but none of its arguments, which may
    /// be values.
    static func unknownCommand(_ name: [UInt8]) -> RESPError {
        let printable = String(decoding: name.prefix(64).map { (32...126).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
        return RESPError("unknown command '\(printable)' (Cairn answers a subset of Redis's commands: docs/resp.md)")
    }

    // MARK: Failures of the service

    /// The client's view of a service failure, code by code as docs/resp.md lists them.
    init(_ error: KeyValueServiceError) {
        switch error.code {
        case .quorumUnavailable: self.init(code: .noQuorum, error.message)
        case .timeout: self.init(code: .timeout, error.message)
        case .outcomeUnknown: self.init(code: .unknown, error.message)
        case .siblingLimitExceeded: self.init(code: .siblingLimit, error.message)
        case .objectTooLarge: self.init(code: .tooLarge, error.message)
        case .overloaded: self.init(code: .overloaded, error.message)
        case .unavailable: self.init(code: .unavailable, error.message)
        case .nodeNotFound, .transferNotFound, .notAReplica, .membershipConflict, .planStale: self.init(code: .err, error.message)
        case .casManaged:
            self.init(code: .casManaged, "compare-and-set manages this key; write it with CAIRN.CAS or a SET or DEL without options")
        case .preconditionFailed: self.init(code: .changed, "the key changed while the command ran; nothing was written, try again")
        }
    }

    /// The answer for any error a service call threw.
    static func from(_ error: any Error) -> RESPError {
        switch error {
        case let error as RESPError: error
        case let error as KeyValueServiceError: RESPError(error)
        case is CancellationError: RESPError(code: .unavailable, "the command was cancelled")
        default: RESPError("the node failed to serve the command (\(type(of: error)))")
        }
    }
}
