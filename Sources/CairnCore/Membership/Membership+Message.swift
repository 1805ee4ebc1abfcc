extension Membership {
    /// Who sent a message: every message names the cluster and its sender.
    public struct Envelope: Sendable, Hashable {
        public var clusterName: String
        public var from: NodeID
        /// The sender's internode address, where replies go.
        public var fromAddress: String

        public init(clusterName: String, from: NodeID, fromAddress: String) {
            self.clusterName = clusterName
            self.from = from
            self.fromAddress = fromAddress
        }
    }

    /// The messages membership nodes exchange. Plain values; `CairnWire` encodes them.
    ///
    /// Gossip is a three-way push-pull as in Cassandra's `GossipDigestSyn/Ack/Ack2`: the
    /// initiator sends its digest; the peer answers with the entries it holds newer and the
    /// identities it wants; the initiator sends those. Only newer entries travel.
    public enum Message: Sendable, Hashable {
        /// SYN: the initiator's version of every member it knows and its ring stamp.
        case digest(Envelope, versions: [NodeID: Member.Version], ring: VersionedRing.Stamp?)
        /// ACK: entries newer here than in the digest (or missing from it), the ring if newer
        /// here, and what the initiator holds newer that this node wants.
        case delta(Envelope, members: [Member], ring: VersionedRing?, wanted: [NodeID], wantsRing: Bool)
        /// ACK2: the entries (and ring) the peer asked for.
        case update(Envelope, members: [Member], ring: VersionedRing?)
        /// A heartbeat request; the receiver answers with `heartbeatReply` at once.
        case heartbeat(Envelope, sequence: UInt64)
        /// The answer to a heartbeat: its arrival is what the failure detector samples.
        case heartbeatReply(Envelope, sequence: UInt64)

        public var envelope: Envelope {
            switch self {
            case .digest(let envelope, _, _), .delta(let envelope, _, _, _, _), .update(let envelope, _, _),
                 .heartbeat(let envelope, _), .heartbeatReply(let envelope, _):
                envelope
            }
        }
    }

    /// Membership's one timer: the tick that gossips, heartbeats and judges reachability.
    public enum Timer: Sendable, Hashable {
        case tick
    }

    /// What the shell must do after an event, in order.
    public enum Effect: Sendable, Hashable {
        /// Send `message` to the node listening at `address` (best effort; loss is tolerated).
        case send(to: String, Message)
        /// Call `onTick` once the monotonic clock reaches `at`: the only timer membership needs.
        case schedule(Timer, at: MonotonicTime)
        /// The ring changed (adopted from gossip or derived here). Start handoff from the diff
        /// against the previous ring; persist the state.
        case ringChanged(VersionedRing)
        /// A member's entry changed (new member, status, address). Persist the state; if the
        /// member is this node and its status is a tombstone, stop serving and exit.
        case memberChanged(Member)
        /// This node's opinion of `node`'s reachability flipped. Steers sloppy quorums and hint
        /// delivery; never ownership.
        case reachabilityChanged(NodeID, reachable: Bool)
        /// A message from another cluster was ignored (worth a log line: a misconfigured seed).
        case rejected(from: String, clusterName: String)
        /// A gossiped entry or ring from `from` was not taken (``Refusal``): unproven, signed by
        /// a node that may not write it, or a ring that disagrees with the entries held here.
        case refused(Refusal, from: NodeID)
    }

    /// Operator errors: values, never crashes.
    public enum Error: Swift.Error, Sendable, Hashable {
        /// The node is not in the member list (or is a tombstone already).
        case unknownMember(NodeID)
        /// The change would leave no member owning partitions.
        case lastOwner(NodeID)
        /// `leave` needs a `valid` member (it is joining, leaving or gone); `remove` needs the
        /// node that takes it to be in the ring (other nodes take removals from owners only).
        case invalidStatus(NodeID, Status)
        /// A staged join was committed for a ring (the second version) this node has not
        /// received yet (it holds the first; 0: none).
        case ringBehind(UInt64, UInt64)
    }

    /// Timing and detector parameters. All times in milliseconds of the shell's monotonic clock.
    public struct Settings: Sendable, Hashable {
        /// How often this node gossips with one peer.
        public var gossipIntervalMilliseconds: UInt64
        /// How often this node sends a heartbeat to every live member.
        public var heartbeatIntervalMilliseconds: UInt64
        public var detector: PhiAccrualDetector.Settings
        /// Take gossiped entries and rings without checking their proofs (``Proof``). Unsafe:
        /// any connected peer can then remove members; for measuring and for the tests that show
        /// what the checks prevent (`cairnd --unsafe-mode unproven-membership`).
        public var acceptUnprovenMembership = false
        /// A joining node waits, `joining` with the cluster's ring, until an operator commits
        /// its join (``Instance/onCommit(ringVersion:now:)``; `cairnd --join staged`, `cairn
        /// cluster plan`/`commit`), instead of becoming `valid` as soon as it has the ring.
        public var stagedJoin = false

        public init(
            gossipIntervalMilliseconds: UInt64 = 1_000,
            heartbeatIntervalMilliseconds: UInt64 = 1_000,
            detector: PhiAccrualDetector.Settings? = nil
        ) {
            precondition(gossipIntervalMilliseconds > 0 && heartbeatIntervalMilliseconds > 0,
                         "intervals \(gossipIntervalMilliseconds) \(heartbeatIntervalMilliseconds) must be positive")
            self.gossipIntervalMilliseconds = gossipIntervalMilliseconds
            self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
            self.detector = detector ?? PhiAccrualDetector.Settings(firstHeartbeatEstimateMilliseconds: Double(heartbeatIntervalMilliseconds))
        }
    }
}
