import CairnCore
import CairnNodeCore

/// The node shell's background work: membership gossip and failure detection, hint storage
/// and delivery, and Merkle-tree anti-entropy.
extension Simulation {
    // MARK: membership

    func membershipTick(_ node: Int) {
        let directives = nodes[node].membership.onTick(nowMilliseconds: queue.now, random: nodeRandom.next())
        performMembership(directives, node: node)
    }

    func performMembership(_ directives: [Membership.Directive], node: Int) {
        for directive in directives {
            switch directive {
            case .send(let address, let message):
                guard let to = SimNode.index(of: address), to < nodes.count else {
                    violations.append("node \(node) sent membership to unknown address \(address)")
                    continue
                }
                send(.membership(message), from: node, to: to)
            case .scheduleTick(let after):
                queue.schedule(.membershipTick(node: node, generation: nodes[node].generation), after: after)
            case .ringChanged(let ring):
                nodes[node].membershipState = nodes[node].membership.state
                rebuildTrees(node, ring: ring.ring)
            case .memberChanged:
                nodes[node].membershipState = nodes[node].membership.state
            case .reachabilityChanged(let peer, let reachable):
                if reachable { drive(node) { core, view, _, wall in core.onPeerReachable(peer, view: view, wallNow: wall) } }
            case .rejected(let from, let name):
                violations.append("node \(node) rejected \(from) of cluster \(name)")
            }
        }
    }

    /// Every 100 ms: age out hints, retry delivery to reachable owners, start an exchange.
    func maintenanceTick(_ node: Int) {
        drive(node) { core, view, now, wall in core.onMaintenance(view: view, now: now, wallNow: wall) }
        queue.schedule(.maintenanceTick(node: node, generation: nodes[node].generation), after: 100)
    }
}
