import CairnClient

/// Everything a run needs besides the transport: the workload, where to send it, how hard and
/// for how long.
public struct LoadPlan: Sendable {
    public var workload: Workload
    /// Workers are spread over these round-robin.
    public var nodes: [NodeAddress]
    /// Workers: connections, and requests in flight at most.
    public var concurrency: Int
    /// Stop sending after this long (the run ends when the last answer is in).
    public var duration: Duration?
    /// Stop after this many operations.
    public var operations: UInt64?
    /// Operations per second for an open-loop run; `nil`: closed loop, each worker sending its
    /// next request when the previous one is answered.
    public var rate: UInt64?
    /// Fixes every worker's sequence of keys, operations and values.
    public var seed: UInt64

    public static let maxConcurrency = 1024

    public init(
        workload: Workload, nodes: [NodeAddress], concurrency: Int, duration: Duration?, operations: UInt64?, rate: UInt64?,
        seed: UInt64
    ) {
        precondition(!nodes.isEmpty, "a load plan needs at least one node")
        precondition((1...Self.maxConcurrency).contains(concurrency), "concurrency \(concurrency) outside 1...\(Self.maxConcurrency)")
        precondition(duration != nil || operations != nil, "a load plan needs a duration or an operation count")
        precondition(rate.map { $0 >= 1 } ?? true, "an open-loop rate must be at least 1 operation per second")
        self.workload = workload
        self.nodes = nodes
        self.concurrency = concurrency
        self.duration = duration
        self.operations = operations
        self.rate = rate
        self.seed = seed
    }

    /// The schedule of an open-loop run.
    public var schedule: OpenLoopSchedule? { rate.map(OpenLoopSchedule.init(operationsPerSecond:)) }

    /// How many operations the run may send at most: the count asked for, and for an open-loop
    /// run with a duration, those due within it.
    public var operationLimit: UInt64 {
        var limit = operations ?? .max
        if let schedule, let duration {
            limit = Swift.min(limit, schedule.operations(withinNanoseconds: duration.clampedNanoseconds))
        }
        return limit
    }
}

/// A run refused or stopped, with what to do about it.
public struct LoadError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
