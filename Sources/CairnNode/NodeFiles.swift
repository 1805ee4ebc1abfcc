import CairnCore
import CairnStorage
import CairnWire
import NIOCore

/// The node's small durable files beside its engines: identity, mint-epoch lease, membership.
///
/// ```
///   DATA/node.id            32 hex digits: the NodeID, created on first start
///   DATA/mint.lease         decimal: the persisted bound of the mint-epoch counter (MintEpochs)
///   DATA/membership.state   the gossiped membership state (members + ring), in the wire
///                           encoding of a membership update (docs/protocol.md)
///   DATA/partitions/P/      one storage engine per partition replicated here
///   DATA/hints/             the hint engine
///   DATA/paxos/             CAS acceptor states, one per key
/// ```
struct NodeFiles {
    let directory: String

    var partitions: String { directory + "/partitions" }
    var hints: String { directory + "/hints" }
    var paxos: String { directory + "/paxos" }

    func loadOrCreateIdentity() throws -> (id: NodeID, created: Bool) {
        let path = directory + "/node.id"
        if let bytes = try DurableFiles.read(path) {
            let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            guard let id = NodeID(hex: text) else { throw NodeError.corruptFile(path, "not a node id: \(text.prefix(40))") }
            return (id, false)
        }
        var random = SystemRandomNumberGenerator()
        let id = NodeID(high: random.next(), low: random.next())
        try DurableFiles.writeAtomically(Array("\(id.description)\n".utf8), to: path)
        return (id, true)
    }

    /// Whether the node stopped cleanly last time (`markCleanStop`), and from now on counts as
    /// not stopped cleanly until it does again: the mark is removed durably before the node
    /// mints anything (`MintEpochs.trustedFrom`).
    func takeCleanStopMark() throws -> Bool {
        let path = directory + "/clean.stop"
        guard DurableFiles.exists(path) else { return false }
        try DurableFiles.removeDurably(path)
        return true
    }

    /// Records that every store was flushed and closed: the next start may trust the mint
    /// epochs recorded with the stored objects.
    func markCleanStop() throws {
        try DurableFiles.writeAtomically(Array("clean\n".utf8), to: directory + "/clean.stop")
    }

    func loadMintLease() throws -> UInt64 {
        let path = directory + "/mint.lease"
        guard let bytes = try DurableFiles.read(path) else { return 0 }
        guard let value = UInt64(String(decoding: bytes, as: UTF8.self).trimmingWhitespace) else {
            throw NodeError.corruptFile(path, "not a number")
        }
        return value
    }

    func saveMintLease(_ lease: UInt64) throws {
        try DurableFiles.writeAtomically(Array("\(lease)\n".utf8), to: directory + "/mint.lease")
    }

    func loadMembership(limits: WireLimits) throws -> Membership.State? {
        let path = directory + "/membership.state"
        guard let bytes = try DurableFiles.read(path) else { return nil }
        let decoded = try? WireMessage(
            type: WireMessage.MessageType.membershipUpdate.rawValue, payload: ByteBuffer(bytes: bytes), limits: limits)
        guard case .membership(.update(let envelope, let members, let ring))? = decoded else {
            throw NodeError.corruptFile(path, "not a membership update")
        }
        return Membership.State(clusterName: envelope.clusterName, members: members, ring: ring)
    }

    func saveMembership(_ state: Membership.State, me: NodeID, address: String) throws {
        let message = WireMessage.membership(.update(
            Membership.Envelope(clusterName: state.clusterName, from: me, fromAddress: address),
            members: state.members.values.sorted { $0.id < $1.id }, ring: state.ring))
        let payload = message.encodedPayload()
        try DurableFiles.writeAtomically(Array(payload.readableBytesView), to: directory + "/membership.state")
    }
}

/// Failures of the node shell that are not a client's fault.
public enum NodeError: Error, CustomStringConvertible {
    case corruptFile(String, String)
    case wrongCluster(expected: String, found: String)

    public var description: String {
        switch self {
        case .corruptFile(let path, let reason): "corrupt file \(path): \(reason)"
        case .wrongCluster(let expected, let found):
            "the data directory belongs to cluster \"\(found)\", not \"\(expected)\""
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace (no Foundation needed).
    public var trimmingWhitespace: String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
