/// Coordinator state machines for one client request each (DESIGN.md §2, "Quorums").
///
/// `Quorum.WriteCoordinator` runs a PUT or a DELETE, `Quorum.ReadCoordinator` a GET. Both are
/// pure value types in the manner of swift-cluster-membership's `SWIMInstance`: every input is
/// a `mutating func on<Event>(...)` that takes the time it is given and returns effects for the
/// node shell to carry out, in order; timers are effects and their expiry comes back as an
/// event. Neither reads a clock, creates randomness or does I/O. See `docs/quorum.md`.
public enum Quorum {
    /// A node a request is sent to, and the primary it stands in for when it is a fallback.
    public struct Target: Hashable, Sendable, CustomStringConvertible {
        public var node: NodeID
        /// The unreachable primary this fallback replaces: a write stored here is a hint for
        /// it (DESIGN.md §2). `nil` for a primary.
        public var hintFor: NodeID?

        public init(node: NodeID, hintFor: NodeID? = nil) {
            self.node = node
            self.hintFor = hintFor
        }

        public var isFallback: Bool { hintFor != nil }

        public var description: String {
            if let hintFor { return "\(node) (fallback for \(hintFor))" }
            return "\(node)"
        }
    }

    /// The timers a coordinator asks for. The shell fires each at most once, at or after its
    /// deadline, through the machine's `onTimer(_:now:)`.
    public enum Timer: Hashable, Sendable {
        /// The client's deadline: no decision by then means the request failed.
        case response
        /// GET only: stop waiting for late replies and send the read repairs that are due.
        case repair
    }

    /// Why a request failed. A value, never a trap: too few replicas, a timeout or a refused
    /// write are operating conditions (STYLE.md, "Errors and limits").
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public enum Reason: Hashable, Sendable {
            /// R or W outside 1...N (bad client input).
            case invalidQuorum(required: Int, n: Int)
            /// Fewer reachable nodes in the extended list than the quorum needs; nothing was sent.
            case tooFewReachable(reachable: Int, required: Int)
            /// The response timer fired with fewer acks (or replies) than required.
            case timedOut(received: Int, required: Int)
            /// Enough replicas refused (or failed) that the quorum can no longer be reached.
            case tooFewSucceeded(succeeded: Int, failed: Int, required: Int)
            /// The coordinating replica refused the write (e.g. the sibling cap); nothing stored.
            case rejected(VersionError)
            /// The coordinating replica could not store the write (disk); nothing replicated.
            case localStoreFailed(message: String)
            /// A forwarded write reached a node that does not count itself among the targets
            /// (the two nodes disagree on who is reachable). Forwarding happens at most once.
            case coordinatorNotTarget(forwardedBy: NodeID?)
        }

        public var keyHash: KeyHash
        public var reason: Reason

        public init(keyHash: KeyHash, reason: Reason) {
            self.keyHash = keyHash
            self.reason = reason
        }

        public var description: String { "quorum request for key hash \(keyHash) failed: \(reason)" }
    }

    /// The first `n` reachable nodes of `extendedList`, each fallback paired with the primary it
    /// replaces (sloppy quorum, Dynamo §4.6).
    ///
    /// The primaries are `extendedList.prefix(n)`, which is what `Ring.preferenceList` returns.
    /// Unreachable primaries are matched to fallbacks in list order, so the first fallback holds
    /// hints for the first missing primary. There are never more fallbacks than missing
    /// primaries: a target list has at most `n` nodes.
    public static func targets(extendedList: [NodeID], n: Int, isReachable: (NodeID) -> Bool) -> [Target] {
        precondition(n >= 1, "replica count n = \(n) must be at least 1")
        let primaries = extendedList.prefix(n)
        var missing = primaries.filter { !isReachable($0) }[...]
        var result: [Target] = []
        result.reserveCapacity(n)
        for (index, node) in extendedList.enumerated() where result.count < n && isReachable(node) {
            if index < primaries.count {
                result.append(Target(node: node))
            } else {
                result.append(Target(node: node, hintFor: missing.popFirst()))
            }
        }
        return result
    }

    /// Checks that `preferenceList` is the first entries of `extendedList` with the length N
    /// asks for: the two come from the same ring, so a mismatch is a programmer error.
    static func checkLists(preferenceList: [NodeID], extendedList: [NodeID], n: Int) {
        precondition(n >= 1, "replica count n = \(n) must be at least 1")
        precondition(
            preferenceList.count == min(n, extendedList.count) && extendedList.starts(with: preferenceList),
            "preference list \(preferenceList) is not the first \(n) of extended list \(extendedList)")
        precondition(Set(extendedList).count == extendedList.count, "extended list \(extendedList) repeats a node")
    }
}
