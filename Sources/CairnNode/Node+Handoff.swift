import CairnCore
import CairnHTTP
import CairnNodeCore

/// The operator's leave and remove, carried out by the node core (`NodeCore+Membership`,
/// `NodeCore+Handoff`).
extension Node {
    func leave(node: String?) async throws { try await home.leave(node: node) }

    func remove(node: String) async throws { try await home.remove(node: node) }
}

/// On the home instance, which runs membership.
extension NodeInstance {
    /// `cairn cluster leave`: this node becomes `leaving`, the next ring excludes it, it hands
    /// its partitions to their new replicas, then becomes `left` and stops serving.
    func leave(node: String?) throws {
        var target = id
        if let node {
            guard let member = core.member(named: node) else { throw KeyValueServiceError.nodeNotFound(node) }
            target = member
        }
        var commands: [NodeCommand] = []
        do {
            commands = try core.onLeave(of: target, now: clockNow(), wallNow: wallTime())
        } catch {
            throw KeyValueServiceError.membershipConflict("cannot leave: \(error)")
        }
        if target == id {
            logger.notice("leaving the cluster: handing partitions off", metadata: ["cairn.transfers": "\(core.transferProgress.count)"])
        } else {
            logger.notice("asked a member to leave", metadata: ["cairn.member": "\(target)"])
        }
        drive { _, _, _ in commands }
    }

    /// `cairn cluster remove NODE`: an operator removes a member (a node that is gone for good).
    func remove(node: String) throws {
        guard let member = core.member(named: node) else { throw KeyValueServiceError.nodeNotFound(node) }
        var commands: [NodeCommand] = []
        do {
            commands = try core.onRemove(member, now: clockNow(), wallNow: wallTime())
        } catch {
            throw KeyValueServiceError.membershipConflict("cannot remove \(node): \(error)")
        }
        drive { _, _, _ in commands }
    }
}
