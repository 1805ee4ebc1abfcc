import CairnCore
import CairnNodeCore
import CairnStorage

/// Handoff state that must survive a restart: the transfers this node still owes (with the
/// cursor acknowledged so far, so a restarted transfer resumes after it) and the partitions it
/// is still receiving (so it keeps refusing their reads).
///
/// `DATA/handoff.state` (core instance 0; instance `i` > 0 has `DATA/handoff-i.state`), one
/// line per item, rewritten atomically on every change:
///
/// ```
///   out <partition> <target id> <cursor hex or ->     a transfer to send (resume after cursor)
///   in <partition> <source id> [<source id> ...]     a pending partition and the sources awaited
///   cas <partition> <member id> [<member id> ...]    a gained partition whose acceptor states
///                                                    are still awaited from these members
///                                                    (`cas!`: an old replica was removed, so
///                                                    unreachable fellow replicas are awaited too)
///   owed <partition> <node id> [<node id> ...]       a lost partition whose acceptor states
///                                                    these gaining nodes have not gathered yet
/// ```
extension NodeInstance {
    func saveHandoffState(_ state: NodeCore.HandoffState) {
        do {
            try Node.saveHandoffState(state, path: files.handoffPath(instance: shard.index))
        } catch {
            logger.error("persisting handoff state failed", metadata: ["error": "\(error)"])
        }
    }
}

extension Node {
    static func saveHandoffState(_ state: NodeCore.HandoffState, path: String) throws {
        var lines: [String] = []
        for (transfer, cursor) in state.transfers {
            let hex = cursor.map { $0.map { byte in String(byte, radix: 16).leftPadded(to: 2) }.joined() } ?? "-"
            lines.append("out \(transfer.partition) \(transfer.target) \(hex.isEmpty ? "-" : hex)")
        }
        for (partition, sources) in state.pending.sorted(by: { $0.key < $1.key }) {
            lines.append("in \(partition) " + sources.sorted().map(\.description).joined(separator: " "))
        }
        for (partition, members) in state.casAwaiting.sorted(by: { $0.key < $1.key }) where !members.isEmpty {
            lines.append("cas\(state.casStrict.contains(partition) ? "!" : "") \(partition) " + members.sorted().map(\.description).joined(separator: " "))
        }
        for (partition, nodes) in state.casOwed.sorted(by: { $0.key < $1.key }) where !nodes.isEmpty {
            lines.append("owed \(partition) " + nodes.sorted().map(\.description).joined(separator: " "))
        }
        try DurableFiles.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: path)
    }

    /// After a restart: the owed transfers (this node is their source) and the pending partitions.
    static func loadHandoffState(path: String, partitions: Int, me: NodeID) throws -> NodeCore.HandoffState? {
        guard let bytes = try DurableFiles.read(path) else { return nil }
        var transfers: [(transfer: Handoff.Transfer, cursor: [UInt8]?)] = []
        var pending: [Int: Set<NodeID>] = [:]
        var casAwaiting: [Int: Set<NodeID>] = [:]
        var casOwed: [Int: Set<NodeID>] = [:]
        var casStrict: Set<Int> = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 3, let partition = Int(fields[1]), partition >= 0, partition < partitions else {
                throw NodeError.corruptFile(path, "bad line: \(line.prefix(80))")
            }
            switch fields[0] {
            case "out":
                guard fields.count == 4, let target = NodeID(hex: fields[2]) else {
                    throw NodeError.corruptFile(path, "bad transfer: \(line.prefix(80))")
                }
                let cursor = fields[3] == "-" ? nil : Self.bytes(hex: fields[3])
                transfers.append((Handoff.Transfer(partition: partition, source: me, target: target), cursor))
            case "in", "cas", "cas!", "owed":
                let nodes = Set(fields.dropFirst(2).compactMap { NodeID(hex: $0) })
                guard nodes.count == fields.count - 2 else { throw NodeError.corruptFile(path, "bad node ids: \(line.prefix(80))") }
                switch fields[0] {
                case "in": pending[partition] = nodes
                case "cas", "cas!":
                    casAwaiting[partition] = nodes
                    if fields[0] == "cas!" { casStrict.insert(partition) }
                default: casOwed[partition] = nodes
                }
            default:
                throw NodeError.corruptFile(path, "unknown line: \(line.prefix(80))")
            }
        }
        return NodeCore.HandoffState(transfers: transfers, pending: pending, casAwaiting: casAwaiting, casStrict: casStrict, casOwed: casOwed)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
