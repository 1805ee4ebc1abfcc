import CairnCore
import CairnStorage

/// Handoff state that must survive a restart: the transfers this node still owes (with the
/// cursor acknowledged so far, so a restarted transfer resumes after it) and the partitions it
/// is still receiving (so it keeps refusing their reads).
///
/// `DATA/handoff.state`, one line per item, rewritten atomically on every change:
///
/// ```
///   out <partition> <target id> <cursor hex or ->     a transfer to send (resume after cursor)
///   in <partition> <source id> [<source id> ...]     a pending partition and the sources awaited
/// ```
extension Node {
    var handoffStatePath: String { configuration.dataDirectory + "/handoff.state" }

    func saveHandoffState() {
        var lines: [String] = []
        for transfer in transferQueue + (currentTransfer.map { [$0] } ?? []) {
            let cursor = transferCursors[transfer].map { $0.map { byte in String(byte, radix: 16).leftPadded(to: 2) }.joined() } ?? "-"
            lines.append("out \(transfer.partition) \(transfer.target) \(cursor.isEmpty ? "-" : cursor)")
        }
        for (partition, sources) in pendingIn.sorted(by: { $0.key < $1.key }) {
            lines.append("in \(partition) " + sources.sorted().map(\.description).joined(separator: " "))
        }
        do {
            try DurableFiles.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: handoffStatePath)
        } catch {
            logger.error("persisting handoff state failed", metadata: ["error": "\(error)"])
        }
    }

    /// After a restart: requeue the owed transfers and keep the partitions pending.
    func restoreHandoffState() throws {
        guard let bytes = try DurableFiles.read(handoffStatePath) else { return }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 3, let partition = Int(fields[1]), partition >= 0, partition < configuration.partitions else {
                throw NodeError.corruptFile(handoffStatePath, "bad line: \(line.prefix(80))")
            }
            switch fields[0] {
            case "out":
                guard fields.count == 4, let target = NodeID(hex: fields[2]) else {
                    throw NodeError.corruptFile(handoffStatePath, "bad transfer: \(line.prefix(80))")
                }
                let transfer = Handoff.Transfer(partition: partition, source: id, target: target)
                transfers[transfer] = TransferProgress(transfer: transfer, state: .queued)
                transferQueue.append(transfer)
                if fields[3] != "-" { transferCursors[transfer] = Self.bytes(hex: fields[3]) }
            case "in":
                let sources = Set(fields.dropFirst(2).compactMap { NodeID(hex: $0) })
                guard sources.count == fields.count - 2 else {
                    throw NodeError.corruptFile(handoffStatePath, "bad sources: \(line.prefix(80))")
                }
                pendingIn[partition] = sources
                pendingSince[partition] = monotonicNow()
            default:
                throw NodeError.corruptFile(handoffStatePath, "unknown line: \(line.prefix(80))")
            }
        }
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
