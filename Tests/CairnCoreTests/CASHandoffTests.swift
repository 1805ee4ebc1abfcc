import Testing
@testable import CairnCore

/// Merging another acceptor's state into a node that gained the key's partition
/// (docs/cas.md, "Membership changes").
@Suite struct CASHandoffTests {
    let a = NodeID(high: 0, low: 1)
    let b = NodeID(high: 0, low: 2)

    func ballot(_ counter: UInt64, _ node: NodeID? = nil) -> CAS.Ballot { CAS.Ballot(counter: counter, node: node ?? a) }

    @Test func theMergeKeepsTheHigherPromiseTheNewerCommitAndTheHigherAcceptedProposal() {
        let old = CAS.Proposal(ballot: ballot(10), value: [1])
        let newer = CAS.Proposal(ballot: ballot(20), value: [2])
        let mine = CAS.AcceptorState(promised: ballot(30), accepted: CAS.Proposal(ballot: ballot(25), value: [3]), committed: old)
        let theirs = CAS.AcceptorState(promised: ballot(40, b), accepted: CAS.Proposal(ballot: ballot(35, b), value: [4]), committed: newer)
        let merged = mine.merged(with: theirs)
        #expect(merged.promised == ballot(40, b))
        #expect(merged.committed == newer)
        #expect(merged.accepted?.value == [4], "the accepted proposal with the higher ballot: a proposer would pick it from the two")
        #expect(merged == theirs.merged(with: mine), "the merge does not depend on which side holds which state")
        #expect(merged.merged(with: theirs) == merged && merged.merged(with: mine) == merged, "merging again changes nothing")
    }

    @Test func anAcceptedProposalACommitSupersedesIsDropped() {
        let accepted = CAS.AcceptorState(promised: ballot(15), accepted: CAS.Proposal(ballot: ballot(15), value: [1]), committed: .initial)
        let committed = CAS.AcceptorState(promised: ballot(20, b), committed: CAS.Proposal(ballot: ballot(20, b), value: [2]))
        #expect(accepted.merged(with: committed).accepted == nil)
        #expect(committed.merged(with: accepted).accepted == nil)
    }

    @Test func aHandedOffCommitIsAppliedToTheObjectBeforeTheStateIsPersisted() {
        var acceptor = CAS.Acceptor(state: CAS.AcceptorState(promised: ballot(5), committed: CAS.Proposal(ballot: ballot(5), value: [1])))
        let commit = CAS.Proposal(ballot: ballot(9, b), value: [2])
        let effects = acceptor.onHandedOff(CAS.AcceptorState(promised: ballot(9, b), committed: commit))
        #expect(effects == [.apply(commit), .persist(CAS.AcceptorState(promised: ballot(9, b), committed: commit))])
        #expect(acceptor.onHandedOff(CAS.AcceptorState(promised: ballot(9, b), committed: commit)).isEmpty, "the same state again: nothing")
        #expect(acceptor.onHandedOff(CAS.AcceptorState(promised: ballot(3))).isEmpty, "an older state: nothing")
    }

    @Test func aHandedOffPromiseOrAcceptanceIsPersistedWithoutApplyingAnything() {
        var acceptor = CAS.Acceptor()
        let proposal = CAS.Proposal(ballot: ballot(7, b), value: [5])
        let effects = acceptor.onHandedOff(CAS.AcceptorState(promised: ballot(7, b), accepted: proposal))
        #expect(effects == [.persist(CAS.AcceptorState(promised: ballot(7, b), accepted: proposal))])
        // The next proposer's prepare hears of the accepted proposal, as it would from its first acceptor.
        guard case .reply(.promise(_, let accepted, _, _))? = acceptor.onPrepare(ballot(8)).last else {
            Issue.record("no promise")
            return
        }
        #expect(accepted == proposal)
        #expect(acceptor.onPropose(CAS.Proposal(ballot: ballot(6), value: [9])).first == .reply(.proposeRejected(ballot(6), promised: ballot(8))))
    }

    @Test func aCollectionFloorIsMergedButNeverAppliedAsAValue() {
        var acceptor = CAS.Acceptor()
        let effects = acceptor.onHandedOff(CAS.AcceptorState().raised(toFloor: 100))
        #expect(effects == [.persist(CAS.AcceptorState().raised(toFloor: 100))], "a floor carries no value: nothing is applied")
        #expect(CAS.Ballot.floor(counter: 100).isFloor && !ballot(100).isFloor)
    }
}
