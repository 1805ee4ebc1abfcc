import CairnCore
import CairnHTTP
import CairnNodeCore

/// The operator's leave and remove, carried out by the node core (`NodeCore+Membership`,
/// `NodeCore+Handoff`).
extension Node {
    /// `cairn cluster leave`: this node becomes `leaving`, the next ring excludes it, it hands
    /// its partitions to their new replicas, then becomes `left` and stops serving.
    func leave(node: String?) throws {
        if let node, core.member(named: node) != id {
            throw KeyValueServiceError.membershipConflict(
                "a node leaves by itself: send the leave to \(node) (cairn cluster leave --node <its HTTP address>)")
        }
        let now = monotonicNow()
        let wall = wallNow()
        var commands: [NodeCommand] = []
        do {
            commands = try core.onLeave(now: now, wallNow: wall)
        } catch {
            throw KeyValueServiceError.membershipConflict("cannot leave: \(error)")
        }
        logger.notice("leaving the cluster: handing partitions off", metadata: ["cairn.transfers": "\(core.transferProgress.count)"])
        drive { _, _, _ in commands }
    }

    /// `cairn cluster remove NODE`: an operator removes a member (a node that is gone for good).
    func remove(node: String) throws {
        guard let member = core.member(named: node) else { throw KeyValueServiceError.nodeNotFound(node) }
        var commands: [NodeCommand] = []
        do {
            commands = try core.onRemove(member, now: monotonicNow(), wallNow: wallNow())
        } catch {
            throw KeyValueServiceError.membershipConflict("cannot remove \(node): \(error)")
        }
        drive { _, _, _ in commands }
    }
}
