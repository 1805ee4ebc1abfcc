import CairnCore
import CairnHTTP
import Logging

/// Telling the operator when the ring has fewer members than N: a warning in the log and in
/// `GET /v1/cluster`, and a `quorum_unavailable` message that names the fix
/// (`ReplicationAdvice`).
extension Node {
    func explained(_ error: KeyValueServiceError, quorum: ReplicationAdvice.Quorum) async -> KeyValueServiceError {
        await home.explained(error, quorum: quorum)
    }
}

extension NodeInstance {
    /// The advice for the ring as this node has it now; `nil` before it has a ring.
    var replicationAdvice: ReplicationAdvice? {
        guard let ring else { return nil }
        return ReplicationAdvice(
            members: ring.members.count, replicas: configuration.replicas, readQuorum: configuration.readQuorum,
            writeQuorum: configuration.writeQuorum, listenAddress: configuration.listenAddress)
    }

    /// What `GET /v1/cluster` lists under `warnings`.
    var warnings: [String] {
        replicationAdvice?.belowN.map { [$0] } ?? []
    }

    /// `error` with its message replaced by one that names the fix, when it is a
    /// `quorum_unavailable` the ring's size explains (fewer members than the replicas needed).
    func explained(_ error: KeyValueServiceError, quorum: ReplicationAdvice.Quorum) -> KeyValueServiceError {
        guard error.code == .quorumUnavailable, let required = error.required,
              let message = replicationAdvice?.shortfall(required: required, quorum: quorum) else { return error }
        var explained = error
        explained.message = message
        return explained
    }

    /// Logs a warning when the ring has fewer members than N, once per member count, and a
    /// notice when it is back at N. Called at start and on every timer tick: the ring changes in
    /// the core's membership, and the tick (every gossip interval) is how soon the log follows.
    func noteReplication() {
        guard let advice = replicationAdvice, advice.members != loggedRingMembers else { return }
        let metadata: Logger.Metadata = ["cairn.members": "\(advice.members)", "cairn.n": "\(advice.replicas)"]
        if let warning = advice.belowN {
            logger.warning("\(warning)", metadata: metadata)
        } else if let logged = loggedRingMembers, logged < advice.replicas {
            logger.notice("replication is back at N: the ring has as many members as replicas per key", metadata: metadata)
        }
        loggedRingMembers = advice.members
    }
}

extension NodeService {
    /// The quorums a write of `supersedes` with `w` needs: W, and first the default R when it
    /// has no context to carry yet (the node core reads the key before a plain or conditional
    /// write).
    func writeQuorum(_ supersedes: Supersedes, w: Int?) -> ReplicationAdvice.Quorum {
        .write(w: w ?? node.configuration.writeQuorum,
               readFirst: supersedes.knownContext == nil ? node.configuration.readQuorum : nil)
    }

    /// Runs a read or write and explains a `quorum_unavailable` the ring's size causes.
    func explainingQuorum<T>(_ quorum: ReplicationAdvice.Quorum, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as KeyValueServiceError where error.code == .quorumUnavailable {
            throw await node.explained(error, quorum: quorum)
        }
    }
}
