extension CAS {
    /// A Paxos ballot: a counter with the proposing node as tiebreak, so two nodes never share
    /// a ballot.
    ///
    /// Cassandra uses time-based UUIDs; here the counter is whatever the caller hands the
    /// proposer as a floor (a clock reading or a persisted counter), raised above every ballot
    /// the proposer has seen. Order: counter first, then node.
    ///
    /// Two proposers on the same node must not run for the same key at once (they could pick
    /// the same ballot); the shell queues them (docs/cas.md, "Caller's duties").
    public struct Ballot: Hashable, Comparable, Sendable, CustomStringConvertible {
        public var counter: UInt64
        public var node: NodeID

        public init(counter: UInt64, node: NodeID) {
            self.counter = counter
            self.node = node
        }

        /// Below every ballot a proposer uses (proposers start at counter 1): the ballot of
        /// "nothing promised" and of the initial, absent commit.
        public static let zero = Ballot(counter: 0, node: NodeID(high: 0, low: 0))

        public static func < (a: Ballot, b: Ballot) -> Bool {
            (a.counter, a.node) < (b.counter, b.node)
        }

        public var description: String { "\(counter).\(node)" }
    }
}
