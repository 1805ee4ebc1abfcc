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

    /// A value tagged with the ballot that proposed or committed it.
    public struct Proposal: Hashable, Sendable, CustomStringConvertible {
        public var ballot: Ballot
        public var value: Value

        public init(ballot: Ballot, value: Value) {
            self.ballot = ballot
            self.value = value
        }

        /// What every acceptor starts with as its "most recent commit": the key is absent.
        public static let initial = Proposal(ballot: .zero, value: nil)

        public var description: String {
            "\(value.map { "\($0.count) bytes" } ?? "absent")@\(ballot)"
        }
    }

    /// The messages between a proposer and the acceptors of one key.
    public enum Message: Hashable, Sendable {
        /// Phase 1a: promise to ignore ballots below this one.
        case prepare(Ballot)
        /// Phase 1b: the promise, with the acceptor's accepted-but-not-committed proposal (if
        /// any) and its most recent commit.
        case promise(Ballot, accepted: Proposal?, committed: Proposal)
        /// The acceptor has promised a higher ballot (`promised`).
        case prepareRejected(Ballot, promised: Ballot)
        /// Phase 2a: accept this proposal.
        case propose(Proposal)
        /// Phase 2b: the proposal with this ballot was accepted.
        case accepted(Ballot)
        /// The acceptor has promised a higher ballot (`promised`).
        case proposeRejected(Ballot, promised: Ballot)
        /// The proposal is chosen: make it the most recent commit. No reply.
        case commit(Proposal)
    }
}
