/// A membership change worked out before it is made: Riak's `cluster plan` / `cluster commit`.
///
/// The plan takes the membership state one node holds, the joins waiting for a commit (every
/// `joining` member: nodes started with `cairnd --join staged`), and the leaves and removals an
/// operator proposes. It orders them — joins, then leaves, then removals, each group by node
/// identity — and computes, step by step, the ring each change will produce. Ring derivation
/// is a pure function of the previous ring and the owner set (``Membership/State/derivedRing()``),
/// so when the committer carries the steps out one at a time, each after the ring of the one
/// before has arrived, the cluster goes through exactly these rings.
///
/// The ``token`` names the ring version the plan starts from and its changes; a commit through
/// any node recomputes the plan from that node's state and refuses a token whose ring version
/// or joiners are no longer the cluster's (``Problem/stale``), so what is carried out is what
/// was shown.
public struct ClusterPlan: Sendable, Equatable {
    /// One membership change.
    public enum Change: Sendable, Hashable, CustomStringConvertible {
        /// A staged joiner becomes `valid` and takes partitions.
        case join(NodeID)
        /// A `valid` member leaves: it hands its partitions off, then becomes `left`.
        case leave(NodeID)
        /// A member gone for good is removed; its partitions are claimed by the others.
        case remove(NodeID)

        public var node: NodeID {
            switch self {
            case .join(let node), .leave(let node), .remove(let node): node
            }
        }

        public var action: String {
            switch self {
            case .join: "join"
            case .leave: "leave"
            case .remove: "remove"
            }
        }

        public var description: String { "\(action) \(node)" }
    }

    /// A partition that gains a replica, and the new replica.
    public struct Copy: Sendable, Hashable {
        public var partition: Int
        public var target: NodeID

        public init(partition: Int, target: NodeID) {
            self.partition = partition
            self.target = target
        }
    }

    /// One change and the ring it leads to.
    public struct Step: Sendable, Equatable {
        public let change: Change
        public let ringBefore: Ring
        public let ringAfter: Ring
        /// The ring version the step's ring gets (the version before it plus one; unchanged
        /// when the change leaves the owner set as it was, as removing a joiner does).
        public let ringVersion: UInt64
        /// The transfers the step sets off, as the nodes plan them (`NodeCore.ringMoved`): every
        /// old replica of a partition that gains one sends its copy to the new replica (a
        /// write acknowledged by W of N may be on only some of them), except nodes removed by
        /// this step or an earlier one. Per partition and new replica one copy of the data
        /// arrives `sources` times; duplicates merge.
        public let transfers: [Handoff.Transfer]
        /// Partitions that gain a replica, with the new replica: the data that moves.
        public let copies: [Copy]
        /// Partitions whose owner changes (`RingDiff.transfers`).
        public let ownerChanges: Int
    }

    /// Why a plan cannot be made or committed.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        /// The node holds no ring yet (it is still joining).
        case noRing
        /// A named node is not a member (or is a tombstone already).
        case unknownMember(NodeID)
        /// `leave` needs a `valid` member.
        case notValid(NodeID, Membership.Status)
        /// One node named twice.
        case duplicate(NodeID)
        /// The changes would leave no member owning partitions.
        case noOwnerLeft
        /// Nothing to do: no staged join, no leave, no removal.
        case nothingToDo
        /// The token's ring version or joins are no longer the cluster's: plan again.
        case stale(planned: UInt64, now: UInt64)
        /// The token is not one a plan produced.
        case malformedToken(String)

        public var description: String {
            switch self {
            case .noRing: "this node has no ring yet (it is still joining)"
            case .unknownMember(let node): "\(node) is not a member"
            case .notValid(let node, let status): "\(node) is \(status); only a valid member can leave"
            case .duplicate(let node): "\(node) is named twice"
            case .noOwnerLeft: "the changes would leave no member owning partitions"
            case .nothingToDo: "nothing to plan: no staged join (start a node with --join staged), no --leave, no --remove"
            case .stale(let planned, let now):
                "the cluster changed since the plan (ring version \(planned), now \(now), or other staged joins): plan again"
            case .malformedToken(let why): "not a plan token: \(why)"
            }
        }
    }

    /// The ring version the plan starts from.
    public let ringVersion: UInt64
    /// N: the replica count transfers are planned for.
    public let replicas: Int
    public let steps: [Step]
    /// The ring before the first step.
    public let startRing: Ring

    /// The ring after the last step.
    public var finalRing: Ring { steps.last?.ringAfter ?? startRing }

    public var changes: [Change] { steps.map(\.change) }

    /// Plans every staged join (each `joining` member not being removed) and the given leaves
    /// and removals, for N = `replicas`.
    public init(state: Membership.State, leaving: [NodeID], removing: [NodeID], replicas: Int) throws(Problem) {
        guard let versioned = state.ring else { throw .noRing }
        var named = Set<NodeID>()
        for node in leaving + removing {
            guard named.insert(node).inserted else { throw .duplicate(node) }
            guard let member = state.members[node], !member.status.isTombstone else { throw .unknownMember(node) }
        }
        for node in leaving {
            let status = state.members[node]!.status
            guard status == .valid else { throw .notValid(node, status) }
        }
        let joining = state.liveMembers.filter { $0.status == .joining && !named.contains($0.id) }.map(\.id)
        let changes = joining.sorted().map(Change.join) + leaving.sorted().map(Change.leave) + removing.sorted().map(Change.remove)
        guard !changes.isEmpty else { throw .nothingToDo }

        var owners = Set(state.owners)
        var ring = versioned.ring
        var version = versioned.version
        var steps: [Step] = []
        var removed = Set<NodeID>()
        for change in changes {
            switch change {
            case .join(let node): owners.insert(node)
            case .leave(let node): owners.remove(node)
            case .remove(let node):
                owners.remove(node)
                removed.insert(node)
            }
            guard !owners.isEmpty else { throw .noOwnerLeft }
            let sorted = owners.sorted()
            let next = sorted == ring.members ? ring : ring.claiming(members: sorted)
            if next != ring { version += 1 }
            let diff = ring.diff(to: next)
            var transfers: [Handoff.Transfer] = []
            var copies: [Copy] = []
            for change in diff.replicaChanges(n: replicas) {
                let sources = diff.old.preferenceList(for: change.partition, n: replicas).filter { !removed.contains($0) }
                for target in change.gained.sorted() {
                    copies.append(Copy(partition: change.partition, target: target))
                    transfers += sources.filter { $0 != target }.map { Handoff.Transfer(partition: change.partition, source: $0, target: target) }
                }
            }
            steps.append(Step(
                change: change, ringBefore: ring, ringAfter: next, ringVersion: version,
                transfers: transfers, copies: copies, ownerChanges: diff.transfers.count
            ))
            ring = next
        }
        self.ringVersion = versioned.version
        self.replicas = replicas
        self.startRing = versioned.ring
        self.steps = steps
    }

    /// Recomputes the plan `token` names from `state` and checks it is still the same plan.
    public init(token: String, state: Membership.State, replicas: Int) throws(Problem) {
        let parsed = try ClusterPlan.parse(token: token)
        guard let ring = state.ring else { throw .noRing }
        guard ring.version == parsed.ringVersion else { throw .stale(planned: parsed.ringVersion, now: ring.version) }
        let plan = try ClusterPlan(state: state, leaving: parsed.leaving, removing: parsed.removing, replicas: replicas)
        guard plan.ringVersion == parsed.ringVersion, plan.changes.filter(\.isJoin).map(\.node) == parsed.joining else {
            throw .stale(planned: parsed.ringVersion, now: plan.ringVersion)
        }
        self = plan
    }

    // MARK: summaries

    /// Partitions each member owns before and after (members of either ring).
    public var balance: [(node: NodeID, before: Int, after: Int)] {
        let before = Dictionary(startRing.owners.map { ($0, 1) }, uniquingKeysWith: +)
        let after = Dictionary(finalRing.owners.map { ($0, 1) }, uniquingKeysWith: +)
        return Set(startRing.members + finalRing.members).sorted().map { ($0, before[$0] ?? 0, after[$0] ?? 0) }
    }

    /// Whether every partition of the final ring has `replicas` distinct replicas (enough
    /// owners), and how many windows of N consecutive partitions repeat an owner (those
    /// partitions' preference lists walk past the repeat to stay distinct; see ``Claim``).
    public var replicaCheck: (distinct: Bool, repeatedWindows: Int) {
        let ring = finalRing
        let n = replicas
        var repeated = 0
        for partition in 0..<ring.partitionCount {
            let window = (0..<n).map { ring.owners[(partition + $0) % ring.partitionCount] }
            if Set(window).count < window.count { repeated += 1 }
        }
        let distinct = (0..<ring.partitionCount).allSatisfy { ring.preferenceList(for: $0, n: n).count == n }
        return (distinct, repeated)
    }

    // MARK: token

    /// The plan's name for `cairn cluster commit`: `r<ring version>` then `.join-<id>`,
    /// `.leave-<id>`, `.remove-<id>` per change, in step order.
    public var token: String {
        (["r\(ringVersion)"] + changes.map { "\($0.action)-\($0.node)" }).joined(separator: ".")
    }

    /// The longest token accepted: the ring version and 256 changes.
    public static let maxTokenBytes = 24 + 256 * 40

    /// Checks that `token` has a plan token's form (it may still be stale).
    public static func checkToken(_ token: String) throws(Problem) { _ = try parse(token: token) }

    static func parse(token: String) throws(Problem) -> (ringVersion: UInt64, joining: [NodeID], leaving: [NodeID], removing: [NodeID]) {
        guard token.utf8.count <= maxTokenBytes else { throw .malformedToken("longer than \(maxTokenBytes) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        // Exactly the form `token` writes: decimal digits, lowercase hex (no signs, no case).
        guard let first = parts.first, first.hasPrefix("r"), (2...20).contains(first.utf8.count),
              first.utf8.dropFirst().allSatisfy({ (0x30...0x39).contains($0) }), let version = UInt64(first.dropFirst())
        else {
            throw .malformedToken("it starts with r and the ring version")
        }
        var joining: [NodeID] = []
        var leaving: [NodeID] = []
        var removing: [NodeID] = []
        for part in parts.dropFirst() {
            let pieces = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            let isHex = pieces.count == 2 && pieces[1].utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
            guard isHex, let node = NodeID(hex: String(pieces[1])) else {
                throw .malformedToken("each change is join-, leave- or remove- and a node id (32 hex digits)")
            }
            switch pieces[0] {
            case "join": joining.append(node)
            case "leave": leaving.append(node)
            case "remove": removing.append(node)
            default: throw .malformedToken("unknown change \(pieces[0].prefix(16))")
            }
        }
        return (version, joining, leaving, removing)
    }
}

extension ClusterPlan.Change {
    var isJoin: Bool {
        if case .join = self { return true }
        return false
    }
}
