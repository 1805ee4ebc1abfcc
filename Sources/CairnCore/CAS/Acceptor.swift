extension CAS {
    /// The Paxos state one primary keeps for one key. All of it is persisted.
    public struct AcceptorState: Hashable, Sendable {
        /// The highest ballot promised (phase 1) or accepted (phase 2).
        public var promised: Ballot
        /// The proposal accepted and not yet known committed; cleared by a commit at or above it.
        public var accepted: Proposal?
        /// The most recent commit: the key's current CAS value.
        public var committed: Proposal

        public init(promised: Ballot = .zero, accepted: Proposal? = nil, committed: Proposal = .initial) {
            self.promised = promised
            self.accepted = accepted
            self.committed = committed
        }
    }

    /// The acceptor of one key on one primary (Lamport, "Paxos Made Simple", §2.2; Cassandra's
    /// `PaxosState`).
    ///
    /// **Apply, persist, then send.** Every reply that follows a state change comes after a
    /// `.persist(state)` effect; the shell must make that state durable (as durably as data)
    /// before it sends the reply. A promise or acceptance forgotten in a crash lets two values
    /// be chosen. A commit first asks `.apply(proposal)`: merge `proposal.object` into the
    /// key's stored object durably, before the state that records the commit, so a promise
    /// never reports a commit its object does not hold. After a restart the acceptor is rebuilt
    /// from the last persisted state; applying a commit twice changes nothing (`sync` is
    /// idempotent).
    public struct Acceptor: Sendable {
        public enum Effect: Hashable, Sendable {
            /// Merge `proposal.object` into the key's object durably, before any later effect.
            case apply(Proposal)
            /// Make this state durable for the key before carrying out any later effect.
            case persist(AcceptorState)
            /// Send this message back to the proposer that sent the one being handled.
            case reply(Message)
        }

        public internal(set) var state: AcceptorState

        /// An acceptor with the state last persisted for the key (or the empty state).
        public init(state: AcceptorState = AcceptorState()) { self.state = state }

        /// Dispatches a message addressed to acceptors; replies meant for proposers are ignored.
        /// `object` is the key's object on this replica, which a promise carries.
        public mutating func on(_ message: Message, object: DVVSet<[UInt8]>? = nil) -> [Effect] {
            switch message {
            case .prepare(let ballot): return onPrepare(ballot, object: object)
            case .propose(let proposal): return onPropose(proposal)
            case .commit(let proposal): return onCommit(proposal)
            case .promise, .prepareRejected, .accepted, .proposeRejected, .committed: return []
            }
        }

        /// Phase 1: promise `ballot` unless a higher one was promised. Re-promising the same
        /// ballot (a duplicated prepare) is allowed and changes nothing.
        public mutating func onPrepare(_ ballot: Ballot, object: DVVSet<[UInt8]>? = nil) -> [Effect] {
            guard ballot >= state.promised else {
                return [.reply(.prepareRejected(ballot, promised: state.promised))]
            }
            let reply = Effect.reply(.promise(ballot, accepted: state.accepted, committed: state.committed, object: object))
            if ballot == state.promised { return [reply] }
            state.promised = ballot
            return [.persist(state), reply]
        }

        /// Phase 2: accept `proposal` unless a higher ballot was promised.
        public mutating func onPropose(_ proposal: Proposal) -> [Effect] {
            guard proposal.ballot >= state.promised else {
                return [.reply(.proposeRejected(proposal.ballot, promised: state.promised))]
            }
            let reply = Effect.reply(.accepted(proposal.ballot))
            if state.accepted == proposal { return [reply] }
            state.promised = proposal.ballot
            state.accepted = proposal
            return [.persist(state), reply]
        }

        /// A chosen proposal: apply it to the object and keep it if it is newer than the most
        /// recent commit, and drop an accepted proposal it supersedes. A stale or duplicated
        /// commit changes nothing, and is acknowledged all the same.
        public mutating func onCommit(_ proposal: Proposal) -> [Effect] {
            var next = state
            if proposal.ballot > next.committed.ballot { next.committed = proposal }
            if let accepted = next.accepted, accepted.ballot <= next.committed.ballot { next.accepted = nil }
            let reply = Effect.reply(.committed(proposal.ballot))
            guard next != state else { return [reply] }
            let apply = next.committed == proposal && state.committed != proposal
            state = next
            return (apply ? [.apply(proposal)] : []) + [.persist(state), reply]
        }
    }
}
