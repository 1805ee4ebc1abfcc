extension CAS.AcceptorState {
    /// Whether garbage collection may drop this state (docs/cas.md, "Collecting acceptor
    /// states"): no accepted proposal is in progress, and every ballot it holds has a counter
    /// below `counter` (ballot counters follow proposers' wall clocks, so this is an age).
    public func isCollectable(below counter: UInt64) -> Bool {
        accepted == nil && promised.counter < counter && committed.ballot.counter < counter
    }

    /// The highest ballot counter this state holds.
    public var highestCounter: UInt64 { max(promised.counter, committed.ballot.counter, accepted?.ballot.counter ?? 0) }

    /// This state as an acceptor on a node whose *floor* is `floor` must see it: promised at
    /// least up to the floor, the highest counter of every state the node collected. A
    /// collected key (no state stored) reads as `AcceptorState().raised(toFloor:)`, so a
    /// message with a ballot from before the collection is refused as if the state were there.
    public func raised(toFloor floor: UInt64) -> CAS.AcceptorState {
        guard floor > 0, promised < CAS.Ballot.floor(counter: floor) else { return self }
        var raised = self
        raised.promised = CAS.Ballot.floor(counter: floor)
        return raised
    }
}

extension CAS.Ballot {
    /// Above every ballot with a counter up to `counter` (the highest node breaks the tie), and
    /// below every ballot with a higher counter.
    public static func floor(counter: UInt64) -> CAS.Ballot {
        CAS.Ballot(counter: counter, node: NodeID(high: .max, low: .max))
    }
}
