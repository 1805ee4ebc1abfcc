import CairnClient

/// How the load generator reaches a node: HTTP today, the Redis protocol beside it.
///
/// A transport makes connections; each worker of a run opens its own and sends one request at
/// a time on it, so `--concurrency` is the number of connections and of requests in flight.
public protocol LoadTransport: Sendable {
    /// `http`, `resp`: what the report names.
    var name: String { get }
    /// The operations it can send; a run of any other is refused before it starts.
    var supportedOperations: Set<OperationKind> { get }
    /// Checks that `node` answers (one request), so that a wrong address fails the run at once
    /// with the reason instead of as a column of errors.
    func check(_ node: NodeAddress) async throws
    /// A connection for one worker. It may connect lazily and reconnect after a failure.
    func connect(to node: NodeAddress) async throws -> any LoadConnection
    /// A short, stable label for an error a request threw (`timeout`, `HTTP 503 overloaded`):
    /// the report counts errors by it.
    func label(for error: any Error) -> String
}

/// One worker's connection: one request at a time.
public protocol LoadConnection: Sendable {
    func perform(_ request: LoadRequest) async throws -> LoadOutcome
    func close()
}
