/// Which nodes serve a partition while a ring change is under way (DESIGN.md §3, "Ring
/// changes").
///
/// A node that gains a replica of a partition is *pending* on it until it has received the
/// partition by handoff: writes go to the old replicas and the new ones both, reads go to the
/// old replicas only, so no acknowledged write becomes unreadable during a join or a leave.
/// When every transfer into the partition has completed, reads flip to the new replicas and a
/// node that lost its replica may drop its copy.
public enum Handoff {}

extension Handoff {
    /// One partition to copy from a node that holds it to a node that gains it.
    public struct Transfer: Sendable, Hashable {
        public var partition: Int
        public var source: NodeID
        public var target: NodeID

        public init(partition: Int, source: NodeID, target: NodeID) {
            self.partition = partition
            self.source = source
            self.target = target
        }
    }

    /// The transfers a ring change needs and how far they have got.
    public struct Plan: Sendable, Equatable {
        public let diff: RingDiff
        public let replicas: Int
        /// Every transfer, ascending by partition then target.
        public let transfers: [Transfer]
        public private(set) var completed: Set<Transfer> = []

        /// Plans the change from `diff.old` to `diff.new` for `replicas` (N) copies. Each gained
        /// replica is fed by the first node of the partition's old preference list (its primary:
        /// it holds the partition whatever else happens).
        public init(_ diff: RingDiff, replicas: Int) {
            self.diff = diff
            self.replicas = replicas
            transfers = diff.replicaChanges(n: replicas).flatMap { change in
                let source = diff.old.preferenceList(for: change.partition, n: replicas)[0]
                return change.gained.sorted().map { Transfer(partition: change.partition, source: source, target: $0) }
            }
        }

        public var isComplete: Bool { completed.count == transfers.count }

        /// Marks a transfer done (the target has durably stored the whole partition).
        public mutating func complete(_ transfer: Transfer) {
            precondition(transfers.contains(transfer), "unplanned transfer \(transfer)")
            completed.insert(transfer)
        }

        /// Whether every transfer into `partition` has completed.
        public func isSettled(_ partition: Int) -> Bool {
            transfers.allSatisfy { $0.partition != partition || completed.contains($0) }
        }

        /// The nodes a write to `partition` must go to: the new replicas, then any old ones not
        /// among them while the partition is pending.
        public func writeTargets(_ partition: Int) -> [NodeID] {
            let new = diff.new.preferenceList(for: partition, n: replicas)
            if isSettled(partition) { return new }
            return new + diff.old.preferenceList(for: partition, n: replicas).filter { !new.contains($0) }
        }

        /// The nodes a read of `partition` asks: the old replicas until the partition settles.
        public func readTargets(_ partition: Int) -> [NodeID] {
            (isSettled(partition) ? diff.new : diff.old).preferenceList(for: partition, n: replicas)
        }

        /// Whether `node` may delete its copy of `partition`: it is no longer a replica and the
        /// new replicas have the data.
        public func mayDrop(_ partition: Int, on node: NodeID) -> Bool {
            isSettled(partition) && !diff.new.preferenceList(for: partition, n: replicas).contains(node)
        }
    }
}
