import CoreMetrics
import Synchronization

/// What a RESP server counts while it runs, shared by its connections: for `INFO`, `CLIENT
/// ID`, the connection cap and the metrics.
///
/// Metrics (Prometheus names, docs/operations.md): `cairn_resp_connections` (gauge, recorded at
/// every change), `cairn_resp_connections_refused_total`, `cairn_resp_commands_total`,
/// `cairn_resp_errors_total` (commands answered with an error, refusals included).
public final class RESPServerState: Sendable {
    /// The most connections open at once; one more is answered an error and closed.
    public let maxConnections: Int
    /// The server's scan cursors.
    public let cursors: RESPScanCursors
    private let open = Atomic<Int>(0)
    private let nextID = Atomic<UInt64>(1)
    private let commands = Atomic<Int>(0)
    private let accepted = Atomic<Int>(0)
    private let connectionsGauge = Gauge(label: "cairn_resp_connections")
    private let refusedCounter = Counter(label: "cairn_resp_connections_refused_total")
    private let commandsCounter = Counter(label: "cairn_resp_commands_total")
    private let errorsCounter = Counter(label: "cairn_resp_errors_total")
    /// When the server was made, for `uptime_in_seconds`.
    let started = ContinuousClock.now

    public init(maxConnections: Int, cursors: RESPScanCursors = RESPScanCursors()) {
        precondition(maxConnections >= 1, "a RESP server takes at least one connection, got \(maxConnections)")
        self.maxConnections = maxConnections
        self.cursors = cursors
    }

    /// Connections open now.
    public var connections: Int { open.load(ordering: .relaxed) }
    /// Connections accepted since start.
    public var connectionsAccepted: Int { accepted.load(ordering: .relaxed) }
    /// Commands answered since start.
    public var commandsProcessed: Int { commands.load(ordering: .relaxed) }

    /// Takes a connection slot and returns the connection's id, or `nil` (and counts a
    /// refusal) when `maxConnections` are open.
    func openConnection() -> UInt64? {
        var current = open.load(ordering: .relaxed)
        while current < maxConnections {
            let (exchanged, original) = open.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged {
                accepted.add(1, ordering: .relaxed)
                connectionsGauge.record(current + 1)
                return nextID.add(1, ordering: .relaxed).oldValue
            }
            current = original
        }
        refusedCounter.increment()
        return nil
    }

    /// Gives back a slot taken by `openConnection`.
    func closeConnection() {
        let before = open.subtract(1, ordering: .relaxed).oldValue
        precondition(before > 0, "a RESP connection closed twice")
        connectionsGauge.record(before - 1)
    }

    /// Counts one command answered, and whether its answer was an error.
    func countCommand(failed: Bool) {
        commands.add(1, ordering: .relaxed)
        commandsCounter.increment()
        if failed { errorsCounter.increment() }
    }
}
