import CairnCore
import CairnStorage
import CairnWire
import NIOCore

/// The node's small durable files beside its engines: identity, mint-epoch lease, membership.
///
/// ```
///   DATA/node.id            32 hex digits: the NodeID, created on first start
///   DATA/node-signing.key   the node's Ed25519 private key (32 bytes, 0600): signs its
///                           membership entries; the NodeID is derived from its public key
///   DATA/mint.lease         decimal: the persisted bound of the mint-epoch counter (MintEpochs)
///                           of core instance 0; instance i > 0 keeps DATA/mint-i.lease
///   DATA/handoff.state      owed transfers and pending partitions of instance 0
///                           (DATA/handoff-i.state: of instance i > 0; Node+HandoffState)
///   DATA/membership.state   the gossiped membership state (members + ring), in the wire
///                           encoding of a membership update (docs/protocol.md)
///   DATA/partitions/P/      one storage engine per partition replicated here
///   DATA/hints/             the hint engine
///   DATA/paxos/             CAS acceptor states, one per key
///   DATA/commitlog/N/       the commit log's segments (CommitLog), with --durability always
/// ```
struct NodeFiles {
    let directory: String

    var partitions: String { directory + "/partitions" }
    var hints: String { directory + "/hints" }
    var paxos: String { directory + "/paxos" }
    var commitLog: String { directory + "/commitlog" }

    /// The node's signing key and the identity it derives (`NodeSigningKey`), created on the
    /// first start: the key first, then `node.id`, so a crash in between leaves a key whose
    /// identity the next start writes. An identity from before signing keys (a `node.id`
    /// without a key) cannot prove its membership entries: refused, unless
    /// `allowUnprovenIdentity` (`--unsafe-mode unproven-membership`) keeps it with a new key.
    func loadOrCreateIdentity(allowUnprovenIdentity: Bool = false) throws -> (id: NodeID, key: NodeSigningKey, created: Bool) {
        let idPath = directory + "/node.id"
        let keyPath = directory + "/node-signing.key"
        var recorded: NodeID?
        if let bytes = try DurableFiles.read(idPath) {
            let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            guard let id = NodeID(hex: text) else { throw NodeError.corruptFile(idPath, "not a node id: \(text.prefix(40))") }
            recorded = id
        }
        let key: NodeSigningKey
        if let bytes = try DurableFiles.read(keyPath) {
            guard let loaded = NodeSigningKey(rawRepresentation: bytes) else {
                throw NodeError.corruptFile(keyPath, "not a 32-byte Ed25519 private key")
            }
            key = loaded
        } else {
            if recorded != nil, !allowUnprovenIdentity { throw NodeError.identityWithoutKey(idPath) }
            key = NodeSigningKey()
            try DurableFiles.writeAtomically(key.rawRepresentation, to: keyPath)
        }
        if let recorded {
            if recorded != key.nodeID, !allowUnprovenIdentity {
                throw NodeError.corruptFile(idPath, "\(recorded) is not the identity of node-signing.key (\(key.nodeID))")
            }
            return (recorded, key, false)
        }
        let id = key.nodeID
        try DurableFiles.writeAtomically(Array("\(id.description)\n".utf8), to: idPath)
        return (id, key, true)
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

    /// The file of core instance `index` named `stem.extension` (instance 0: the name a node
    /// of one instance has always used).
    private func perInstance(_ stem: String, _ fileExtension: String, instance index: Int) -> String {
        index == 0 ? "\(directory)/\(stem).\(fileExtension)" : "\(directory)/\(stem)-\(index).\(fileExtension)"
    }

    /// The per-instance files named `stem[-i].extension` in the directory, by instance index
    /// (whatever instance count the node ran with before).
    private func allPerInstance(_ stem: String, _ fileExtension: String) throws -> [Int: String] {
        var found: [Int: String] = [:]
        for name in try DurableFiles.list(directory) where name.hasSuffix("." + fileExtension) {
            let base = name.dropLast(fileExtension.count + 1)
            if base == stem {
                found[0] = "\(directory)/\(name)"
            } else if base.hasPrefix(stem + "-"), let index = Int(base.dropFirst(stem.count + 1)), index > 0 {
                found[index] = "\(directory)/\(name)"
            }
        }
        return found
    }

    func mintLeasePath(instance index: Int) -> String { perInstance("mint", "lease", instance: index) }

    func handoffPath(instance index: Int) -> String { perInstance("handoff", "state", instance: index) }

    /// The highest mint lease any instance stored (each instance mints from its own residue
    /// class of epochs, so all start above every lease: `MintEpochs`).
    func loadMintLease() throws -> UInt64 {
        var lease: UInt64 = 0
        for path in try allPerInstance("mint", "lease").values {
            guard let bytes = try DurableFiles.read(path) else { continue }
            guard let value = UInt64(String(decoding: bytes, as: UTF8.self).trimmingWhitespace) else {
                throw NodeError.corruptFile(path, "not a number")
            }
            lease = max(lease, value)
        }
        return lease
    }

    func saveMintLease(_ lease: UInt64, instance index: Int) throws {
        try DurableFiles.writeAtomically(Array("\(lease)\n".utf8), to: mintLeasePath(instance: index))
    }

    /// The handoff state files of every instance the node ran with before, by index.
    func handoffStatePaths() throws -> [Int: String] { try allPerInstance("handoff", "state") }

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
    /// A `node.id` written before nodes had signing keys.
    case identityWithoutKey(String)

    public var description: String {
        switch self {
        case .corruptFile(let path, let reason): "corrupt file \(path): \(reason)"
        case .wrongCluster(let expected, let found):
            "the data directory belongs to cluster \"\(found)\", not \"\(expected)\""
        case .identityWithoutKey(let path):
            """
            \(path) was made before nodes had signing keys (protocol version 5 and earlier), so this node cannot prove \
            its membership entries and this version does not read its membership state. Start it with an empty data \
            directory: it joins under a new identity (docs/deployment.md, "Upgrades")
            """
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
