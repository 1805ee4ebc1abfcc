import CairnCore
import NIOCore

// Compare-and-set messages (`CAS.Message`), each behind the key it concerns. A ballot is
// u64 counter | node (16); a proposal is a ballot, an optional value and the context the write
// supersedes.

extension ByteBuffer {
    mutating func writeBallot(_ ballot: CAS.Ballot) {
        writeInteger(ballot.counter)
        writeNodeID(ballot.node)
    }

    mutating func writeProposal(_ proposal: CAS.Proposal) {
        writeBallot(proposal.ballot)
        writeWireOptional(proposal.value) { $0.writeWireBytes($1) }
        writeContext(proposal.context)
        writeInteger(proposal.wallTime.millisecondsSince1970)
    }

    /// An acceptor state: promised ballot, optional accepted proposal, committed proposal.
    mutating func writeAcceptorState(_ state: CAS.AcceptorState) {
        writeBallot(state.promised)
        writeWireOptional(state.accepted) { $0.writeProposal($1) }
        writeProposal(state.committed)
    }

    mutating func writeCASMessage(_ message: CAS.Message) {
        switch message {
        case .prepare(let ballot), .accepted(let ballot), .committed(let ballot):
            writeBallot(ballot)
        case .promise(let ballot, let accepted, let committed, let object):
            writeBallot(ballot)
            writeWireOptional(accepted) { $0.writeProposal($1) }
            writeProposal(committed)
            writeWireOptional(object) { $0.writeObject($1) }
        case .prepareRejected(let ballot, let promised), .proposeRejected(let ballot, let promised):
            writeBallot(ballot)
            writeBallot(promised)
        case .propose(let proposal), .commit(let proposal):
            writeProposal(proposal)
        }
    }
}

extension WireReader {
    mutating func ballot() throws(WireError) -> CAS.Ballot {
        CAS.Ballot(counter: try logicalClock("ballot counter"), node: try nodeID("ballot node"))
    }

    mutating func proposal() throws(WireError) -> CAS.Proposal {
        let ballot = try self.ballot()
        let value = try optional("value") { (reader: inout WireReader) throws(WireError) in
            try reader.bytes("value", limit: reader.limits.objectLimits.maxValueBytes)
        }
        let contextAt = offset
        let context = try context()
        guard context[.cas] < Dot.maxCounter else {
            throw error(.malformed, "proposal context leaves no compare-and-set counter", at: contextAt)
        }
        return CAS.Proposal(ballot: ballot, value: value, context: context, wallTime: try wallClock("proposal wall clock"))
    }

    mutating func acceptorState() throws(WireError) -> CAS.AcceptorState {
        let promised = try ballot()
        let accepted = try optional("accepted") { (reader: inout WireReader) throws(WireError) in try reader.proposal() }
        return CAS.AcceptorState(promised: promised, accepted: accepted, committed: try proposal())
    }

    mutating func casMessage(_ type: WireMessage.MessageType) throws(WireError) -> CAS.Message {
        switch type {
        case .casPrepare: return .prepare(try ballot())
        case .casPromise:
            let ballot = try self.ballot()
            let accepted = try optional("accepted") { (reader: inout WireReader) throws(WireError) in try reader.proposal() }
            let committed = try proposal()
            let object = try optional("object") { (reader: inout WireReader) throws(WireError) in try reader.object() }
            return .promise(ballot, accepted: accepted, committed: committed, object: object)
        case .casPrepareRejected: return .prepareRejected(try ballot(), promised: try ballot())
        case .casPropose: return .propose(try proposal())
        case .casAccepted: return .accepted(try ballot())
        case .casProposeRejected: return .proposeRejected(try ballot(), promised: try ballot())
        case .casCommit: return .commit(try proposal())
        case .casCommitted: return .committed(try ballot())
        default: preconditionFailure("CAS decoder called for \(type)")
        }
    }
}
