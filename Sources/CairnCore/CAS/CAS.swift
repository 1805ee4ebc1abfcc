/// Linearizable compare-and-set per key: single-decree Paxos among the key's N primaries, in
/// the manner of Cassandra's lightweight transactions (DESIGN.md §2, "Compare-and-set";
/// docs/cas.md).
///
/// Two pure machines do the work: `CAS.Acceptor` (one per key on each primary, its state
/// persisted like data) and `CAS.Proposer` (one per operation on the coordinating node). Both
/// return effects; the shell carries messages, persists state and runs timers. Messages carry no
/// key: the shell puts the key in the frame and routes by it.
public enum CAS {
    /// A value as CAS sees it: opaque bytes, `nil` meaning absent.
    public typealias Value = [UInt8]?

    /// A write of the key's object tagged with the ballot that proposed or committed it.
    ///
    /// The value is written into the key's own object (so GET, scans, replication and
    /// anti-entropy see it), superseding `context`: what the proposer read from a majority of
    /// the acceptors' objects. `object` is what every replica merges when the proposal is
    /// committed; it is a function of the proposal alone, so every replica merges the same.
    public struct Proposal: Hashable, Sendable, CustomStringConvertible {
        public var ballot: Ballot
        public var value: Value
        /// The history the write supersedes (the join of the objects the proposer read).
        public var context: CausalContext
        /// The proposer's wall clock when it made the proposal: the time a delete (absent)
        /// stamps on its tombstone. Kept when another proposer finishes the proposal.
        public var wallTime: WallClockTime

        public init(ballot: Ballot, value: Value, context: CausalContext = CausalContext(), wallTime: WallClockTime = .zero) {
            self.ballot = ballot
            self.value = value
            self.context = context
            self.wallTime = wallTime
        }

        /// What every acceptor starts with as its "most recent commit": the key is absent.
        public static let initial = Proposal(ballot: .zero, value: nil)

        /// The same write under another ballot (a proposer finishing another's proposal).
        public func reballoted(_ ballot: Ballot) -> Proposal {
            Proposal(ballot: ballot, value: value, context: context, wallTime: wallTime)
        }

        /// The object a replica merges (`DVVSet.sync`) to apply this write: the history of
        /// `context` plus one sibling — the value, or a tombstone for absent — under the next
        /// dot of `ReplicaActor.cas` after `context`'s. Paxos orders chosen values, and each
        /// proposer reads the latest one (or finishes it) before proposing, so successive
        /// commits of a key mint successive dots of that actor and never the same dot twice.
        ///
        /// A context whose compare-and-set counter is spent (only a forged one: a key takes one
        /// dot per commit) yields the context's history alone, without the write; decoders and
        /// the client path refuse such contexts before they get here (`isMintable`).
        public var object: DVVSet<[UInt8]> {
            var object = DVVSet<[UInt8]>(context: context)
            guard isMintable else { return object }
            _ = object.mint(value.map { .value($0) } ?? .tombstone(deletedAt: wallTime), by: .cas)
            return object
        }

        /// Whether `context` leaves a compare-and-set counter for this write's dot.
        public var isMintable: Bool { context[.cas] < Dot.maxCounter }

        public var description: String {
            "\(value.map { "\($0.count) bytes" } ?? "absent")@\(ballot)"
        }
    }

    /// The messages between a proposer and the acceptors of one key.
    public enum Message: Hashable, Sendable {
        /// Phase 1a: promise to ignore ballots below this one.
        case prepare(Ballot)
        /// Phase 1b: the promise, with the acceptor's accepted-but-not-committed proposal (if
        /// any), its most recent commit, and the key's object on this replica (nil: none
        /// stored), from which the proposer reads the current value.
        case promise(Ballot, accepted: Proposal?, committed: Proposal, object: DVVSet<[UInt8]>?)
        /// The acceptor has promised a higher ballot (`promised`).
        case prepareRejected(Ballot, promised: Ballot)
        /// Phase 2a: accept this proposal.
        case propose(Proposal)
        /// Phase 2b: the proposal with this ballot was accepted.
        case accepted(Ballot)
        /// The acceptor has promised a higher ballot (`promised`).
        case proposeRejected(Ballot, promised: Ballot)
        /// The proposal is chosen: apply it to the key's object and make it the most recent
        /// commit. Answered by `committed` once both are durable.
        case commit(Proposal)
        /// The commit of the proposal with this ballot is durable on the acceptor.
        case committed(Ballot)

        /// A phase 1a or 2a message: one that asks an acceptor to promise or accept.
        public var isProposerRequest: Bool {
            switch self {
            case .prepare, .propose: true
            case .promise, .prepareRejected, .accepted, .proposeRejected, .commit, .committed: false
            }
        }
    }
}

extension DVVSet {
    /// Whether compare-and-set manages the key: the object holds a dot of `ReplicaActor.cas`
    /// (a CAS once wrote it). Other writes of such a key are refused (docs/cas.md, "Fencing").
    public var isCASManaged: Bool { entries.contains { $0.actor == .cas } }

    /// The error a write outside CAS gets on a key CAS manages.
    public static var casManagedError: VersionError {
        VersionError(.casManaged, "compare-and-set manages this key; write it with compare-and-set")
    }
}
