import CairnCore
import CairnNodeCore
import CairnTransport
import CairnWire

/// Membership gossip and the maintenance tick (hints and anti-entropy are the core's).
extension Node {
    // MARK: membership

    func performMembership(_ directives: [Membership.Directive]) {
        for directive in directives {
            switch directive {
            case .send(let address, let message):
                Task { try? await pool.send(.membership(message), to: address) }
            case .scheduleTick(let after):
                timers.schedule(.membership, at: monotonicNow() + after)
            case .ringChanged(let ring):
                persistMembership()
                if ring.ring.partitionCount != configuration.partitions {
                    logger.warning("the cluster's ring has another partition count than --partitions; the cluster's wins", metadata: [
                        "cairn.ring_partitions": "\(ring.ring.partitionCount)", "cairn.configured": "\(configuration.partitions)",
                    ])
                }
                ringMoved(from: previousRing, to: ring.ring)
                previousRing = ring.ring
                logger.info("ring changed", metadata: [
                    "cairn.ring_version": "\(ring.version)", "cairn.members": "\(ring.ring.members.count)",
                ])
            case .memberChanged(let member):
                persistMembership()
                logger.info("member changed", metadata: [
                    "cairn.member": "\(member.id)", "cairn.address": "\(member.address)", "cairn.status": "\(member.status)",
                ])
            case .reachabilityChanged(let node, let reachable):
                logger.notice("reachability changed", metadata: ["cairn.peer": "\(node)", "cairn.reachable": "\(reachable)"])
                if reachable { drive { core, view, _, wall in core.onPeerReachable(node, view: view, wallNow: wall) } }
            case .rejected(let from, let clusterName):
                logger.warning("ignored a message from another cluster", metadata: [
                    "cairn.peer": "\(from)", "cairn.their_cluster": "\(clusterName)",
                ])
            }
        }
    }

    func receiveMembership(_ message: Membership.Message) {
        performMembership(membership.onMessage(message, nowMilliseconds: monotonicNow()))
    }

    func persistMembership() {
        do {
            try files.saveMembership(membership.state, me: id, address: configuration.listenAddress)
        } catch {
            logger.error("persisting membership failed", metadata: ["error": "\(error)"])
        }
    }

    /// Every exchange interval: pending partitions, then the core's hints and anti-entropy.
    func maintenance() {
        reviewPending()
        drive { core, view, now, wall in core.onMaintenance(view: view, now: now, wallNow: wall) }
    }
}
