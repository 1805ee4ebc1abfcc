import Testing
@testable import CairnCore

/// Collecting acceptor states (docs/cas.md, "Collecting acceptor states"): what may be dropped,
/// and that the node's floor refuses what the dropped state would have refused.
@Suite struct CASCollectionTests {
    let node = NodeID(high: 0, low: 7)

    func ballot(_ counter: UInt64) -> CAS.Ballot { CAS.Ballot(counter: counter, node: node) }

    @Test func onlyOldStatesWithNothingInProgressAreCollectable() {
        let committed = CAS.Proposal(ballot: ballot(100), value: [1])
        let settled = CAS.AcceptorState(promised: ballot(120), accepted: nil, committed: committed)
        #expect(settled.isCollectable(below: 121))
        #expect(!settled.isCollectable(below: 120), "a promise at the bound is not older than it")
        let inProgress = CAS.AcceptorState(promised: ballot(90), accepted: CAS.Proposal(ballot: ballot(90), value: [2]), committed: .initial)
        #expect(!inProgress.isCollectable(below: 1_000), "an accepted proposal may still be chosen: never collected")
        #expect(inProgress.highestCounter == 90 && settled.highestCounter == 120)
    }

    @Test func aCollectedKeyRefusesBallotsUpToTheFloorAndTakesNewerOnes() {
        // The state promised 120 was collected: the node's floor is 120, and the key reads as
        // an empty state raised to it.
        var acceptor = CAS.Acceptor(state: CAS.AcceptorState().raised(toFloor: 120))
        let late = acceptor.onPropose(CAS.Proposal(ballot: ballot(110), value: [9]))
        #expect(late == [.reply(.proposeRejected(ballot(110), promised: .floor(counter: 120)))],
                "a delayed proposal from before the collection is refused")
        #expect(acceptor.onPrepare(CAS.Ballot(counter: 120, node: NodeID(high: 0, low: 1))).count == 1,
                "a ballot at the floor's counter is refused (a reply only, nothing persisted)")
        let fresh = acceptor.onPrepare(ballot(121))
        #expect(fresh.contains(.persist(CAS.AcceptorState(promised: ballot(121), committed: CAS.Proposal(ballot: .floor(counter: 120), value: nil)))),
                "a newer ballot is promised")
        // A stored state below the floor reads raised; one above it is unchanged.
        #expect(CAS.AcceptorState(promised: ballot(5)).raised(toFloor: 120).promised == .floor(counter: 120))
        #expect(CAS.AcceptorState(promised: ballot(500)).raised(toFloor: 120).promised == ballot(500))
        #expect(CAS.AcceptorState().raised(toFloor: 0) == CAS.AcceptorState())
    }

    /// Found by the simulator (cas seed 1530): a collected state no longer said that a newer
    /// commit had superseded a proposal another acceptor still held as accepted, so the next
    /// proposer "repaired" the losing proposal and two values shared one dot. The floor stands
    /// in for the collected commit.
    @Test func aProposalAcceptedBelowAnotherNodesFloorIsNotRepaired() {
        let bench = CASBench()
        let lost = CAS.Proposal(ballot: ballot(50), value: [1])
        let promises: [CAS.Message] = [
            .promise(ballot(200), accepted: nil, committed: CAS.AcceptorState().raised(toFloor: 120).committed, object: nil),
            .promise(ballot(200), accepted: lost, committed: .initial, object: nil),
        ]
        var proposer = bench.proposer(1, .read)
        _ = proposer.start(now: .zero)
        var effects: [CAS.Proposer.Effect] = []
        for (index, promise) in promises.enumerated() {
            guard case .promise(_, let accepted, let committed, let object) = promise else { continue }
            effects += proposer.onMessage(.promise(proposer.ballot, accepted: accepted, committed: committed, object: object),
                                          from: bench.acceptorIDs[index], now: .zero)
        }
        #expect(!effects.contains { if case .send(_, .propose) = $0 { true } else { false } }, "the lost proposal is not repaired: \(effects)")
    }
}
