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
    /// least up to the floor, the highest counter of every state the node collected, and
    /// committed at least up to it too. A collected key (no state stored) reads as
    /// `AcceptorState().raised(toFloor:)`, so a message with a ballot from before the
    /// collection is refused as if the state were there, and a proposer that gets this promise
    /// treats proposals accepted elsewhere at or below the floor as settled rather than in
    /// progress: the collected state may have held the commit that superseded them (repairing
    /// such a proposal would apply a value that lost, under a dot the winner already used —
    /// the simulator found exactly that). The raised commit has no value; CAS reads values from
    /// objects.
    public func raised(toFloor floor: UInt64) -> CAS.AcceptorState {
        guard floor > 0 else { return self }
        let line = CAS.Ballot.floor(counter: floor)
        var raised = self
        if raised.promised < line { raised.promised = line }
        if raised.committed.ballot < line { raised.committed = CAS.Proposal(ballot: line, value: nil) }
        if let accepted = raised.accepted, accepted.ballot <= line { raised.accepted = nil }
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

extension CAS.Ballot {
    /// Whether this is a floor (`Ballot.floor(counter:)`): an ordering line left by collection,
    /// not a ballot any proposer used.
    public var isFloor: Bool { node == NodeID(high: .max, low: .max) }
}
