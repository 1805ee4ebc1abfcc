extension CAS {
    /// One key's acceptor state, as a former or fellow acceptor hands it to a node that gained
    /// the key's partition (docs/cas.md, "Membership changes").
    public struct KeyedAcceptorState: Hashable, Sendable {
        public var key: [UInt8]
        public var state: AcceptorState

        public init(key: [UInt8], state: AcceptorState) {
            self.key = key
            self.state = state
        }
    }
}

extension CAS.AcceptorState {
    /// The state of one acceptor that had taken every message either of two acceptors took:
    /// the higher promise, the more recent commit, and the accepted proposal with the higher
    /// ballot unless that commit supersedes it. A proposer that hears this state in a promise
    /// learns what it would have learnt from both (it keeps only the highest accepted ballot
    /// and the most recent commit anyway).
    public func merged(with other: CAS.AcceptorState) -> CAS.AcceptorState {
        var merged = CAS.AcceptorState(
            promised: max(promised, other.promised),
            accepted: accepted,
            committed: other.committed.ballot > committed.ballot ? other.committed : committed)
        if let theirs = other.accepted, theirs.ballot > (merged.accepted?.ballot ?? .zero) { merged.accepted = theirs }
        if let accepted = merged.accepted, accepted.ballot <= merged.committed.ballot { merged.accepted = nil }
        return merged
    }
}

extension CAS.Acceptor {
    /// Takes over another acceptor's `state` for the same key: a node that gained the key's
    /// partition merges the state of every node that may have been an acceptor of it before,
    /// so any majority of the new replicas meets every proposal a majority of the old ones
    /// accepted. A commit the merge brings is applied to the object first (its value must be
    /// in the object a promise carries); a collection floor carries no value and is not.
    public mutating func onHandedOff(_ incoming: CAS.AcceptorState) -> [Effect] {
        let next = state.merged(with: incoming)
        guard next != state else { return [] }
        let apply = next.committed != state.committed && !next.committed.ballot.isFloor
        state = next
        return (apply ? [.apply(next.committed)] : []) + [.persist(next)]
    }
}
