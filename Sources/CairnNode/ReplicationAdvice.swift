/// What to tell an operator whose ring has fewer members than the replication asks for, in
/// words that name the fix.
///
/// A node started alone with the defaults (N=3, R=W=2) refuses every write with
/// `503 quorum_unavailable`: its preference lists hold one node, and two must acknowledge.
/// Nothing is wrong with any replica, so "only 1 replicas reachable, 2 required" sends the
/// operator looking for a dead node that does not exist. The fix is to grow the cluster or to
/// ask for fewer replicas, and this says so, with the real flags (`cairnd --seeds`, `--n`,
/// `CAIRN_N`; cairnd takes R and W as `min(2, N)` unless they are set). Pure: the node fills
/// it in from its ring and configuration.
struct ReplicationAdvice: Hashable, Sendable {
    /// The quorums a refused request needed.
    enum Quorum: Hashable, Sendable {
        /// R replicas must answer a read.
        case read
        /// `w` replicas must acknowledge a write; a write without a context (plain or
        /// conditional) first reads the key from `readFirst` replicas, the default R.
        case write(w: Int, readFirst: Int?)
        // No case for compare-and-set: its acceptors are the key's preference list, whose
        // majority a ring smaller than N always has, so the ring's size never explains a refusal.
    }

    /// Members of the ring (those that own partitions).
    var members: Int
    /// N, the replicas per key this node asks for.
    var replicas: Int
    /// The default R and W.
    var readQuorum: Int
    var writeQuorum: Int
    /// This node's internode address, the seed a new node joins through.
    var listenAddress: String

    /// How to grow the cluster or shrink N, the same in every message.
    private var fixes: String {
        "join more nodes (start each with: cairnd --seeds \(listenAddress)), or run with fewer replicas "
            + "(cairnd --n \(members), or CAIRN_N=\(members); R and W then default to at most N)"
    }

    private func plural(_ count: Int, _ noun: String) -> String { count == 1 ? "1 \(noun)" : "\(count) \(noun)s" }

    /// The warning for a ring with fewer members than N (`nil` when it has N or more): each key
    /// is stored on fewer replicas than configured, and requests that need more replicas than
    /// there are members fail.
    var belowN: String? {
        guard members >= 1, members < replicas else { return nil }
        var text = "replication is below N: the ring has \(plural(members, "member")) but N=\(replicas), "
            + "so each key is stored on \(plural(members, "replica"))"
        let failing = [("R", readQuorum), ("W", writeQuorum)].filter { $0.1 > members }.map { "\($0.0)=\($0.1)" }
        if !failing.isEmpty {
            text += ", and requests needing \(failing.joined(separator: " or ")) replicas fail with quorum_unavailable"
        }
        return text + "; " + fixes
    }

    /// The message for a read or write refused because it needed `required` replicas (its R
    /// or W) and the ring has fewer members than that; `nil` when the ring is large
    /// enough (then replicas are down or unreachable, and the plain message says so).
    func shortfall(required: Int, quorum: Quorum) -> String? {
        guard members >= 1, members < required else { return nil }
        let need: String
        var perRequest = ""
        switch quorum {
        case .read:
            need = "R=\(required) of N=\(replicas) replicas must answer a read"
            perRequest = ", or read from fewer (?r=\(members), cairn get -r \(members))"
        case .write(let w, nil):
            need = "W=\(w) of N=\(replicas) replicas must acknowledge a write"
        case .write(let w, let r?):
            need = "a write without a context first reads the key from R=\(r) replicas, "
                + "and W=\(w) of N=\(replicas) must acknowledge it"
        }
        return "the cluster has \(plural(members, "member")), but \(need): " + fixes + perRequest
    }
}
