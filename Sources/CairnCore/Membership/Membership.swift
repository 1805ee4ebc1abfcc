/// Cluster membership: who is in the cluster, at which address, in which state, which ring they
/// agree on, and — separately — whom this node can reach right now (DESIGN.md §3).
///
/// Three parts, each a pure value driven by events that carry the time (STYLE.md, after
/// swift-cluster-membership's `SWIMInstance`):
///
/// - ``Membership/State``: the gossiped state, a state-based CRDT (a join-semilattice). One
///   entry per member, merged by ``Membership/Member/Version`` (removal and departure are
///   tombstones that dominate any later self-update), plus the ring as a last-writer-wins
///   register ordered by ring version. Nodes that have seen the same updates hold equal states.
/// - ``Membership/Instance``: the protocol. Every tick it gossips with one peer (push-pull
///   digests, Cassandra's SYN/ACK/ACK2) and heartbeats every member; it derives the next ring
///   when the owner set changes. It returns ``Membership/Effect``s for the shell to carry out.
/// - ``PhiAccrualDetector``: this node's own opinion of each member's reachability, from the
///   arrival times of heartbeat replies (Hayashibara et al. 2004, as in Akka and Cassandra).
///   Reachability never changes the member list or the ring.
///
/// `docs/membership.md` describes states, merge rule, gossip and the detector's parameters.
public enum Membership {
    /// The most members a node keeps (live and tombstones): what a membership file and a
    /// gossip message can carry (`WireLimits.maxMembers`). Entries for new members past it are
    /// not taken, so forged gossip cannot grow the table without bound.
    public static let maxMembers = 4096
}
