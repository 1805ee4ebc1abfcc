import CairnCore
import CairnNodeCore

/// Reading a command list the way the tests ask about it (`NodeCommand` is not `Equatable`).
extension [NodeCommand] {
    var storage: [(operation: UInt64, command: StorageCommand)] {
        compactMap { if case .storage(let operation, let command) = $0 { (operation, command) } else { nil } }
    }

    /// The storage operations by kind, in order: "read", "write", "merge", "readAcceptor", ….
    var storageKinds: [String] { storage.map(\.command.kind) }

    /// The first storage operation of `kind`.
    func operation(_ kind: String) -> UInt64? { storage.first { $0.command.kind == kind }?.operation }

    var writeReplies: [(client: UInt64, result: ClientWriteResult)] {
        compactMap { if case .replyWrite(let client, let result) = $0 { (client, result) } else { nil } }
    }

    var readReplies: [(client: UInt64, result: ClientReadResult)] {
        compactMap { if case .replyRead(let client, let result) = $0 { (client, result) } else { nil } }
    }

    var casReplies: [(client: UInt64, result: Result<CAS.Proposer.Outcome, RequestFailure>)] {
        compactMap { if case .replyCAS(let client, let result) = $0 { (client, result) } else { nil } }
    }

    var responses: [(reply: UInt64, message: WireMessage)] {
        compactMap { if case .respond(let reply, let message) = $0 { (reply, message) } else { nil } }
    }

    var leases: [UInt64] { compactMap { if case .persistMintLease(let lease) = $0 { lease } else { nil } } }

    /// Whether any command answers a client (read, write or CAS).
    var answersAClient: Bool { !writeReplies.isEmpty || !readReplies.isEmpty || !casReplies.isEmpty }

    /// Every command's kind, for ordering checks: "storage:write", "persistMintLease", ….
    var kinds: [String] {
        map { command in
            switch command {
            case .storage(_, let storage): "storage:\(storage.kind)"
            case .persistMintLease: "persistMintLease"
            case .replyWrite: "replyWrite"
            case .replyRead: "replyRead"
            case .replyCAS: "replyCAS"
            case .respond: "respond"
            case .request: "request"
            case .schedule: "schedule"
            default: "other"
            }
        }
    }
}

extension StorageCommand {
    var kind: String {
        switch self {
        case .read: "read"
        case .write: "write"
        case .merge: "merge"
        case .putHint: "putHint"
        case .readHints: "readHints"
        case .readTree: "readTree"
        case .segmentObjects: "segmentObjects"
        case .readAcceptor: "readAcceptor"
        case .writePaxos: "writePaxos"
        case .readBatch: "readBatch"
        case .heldPartitions: "heldPartitions"
        case .scan: "scan"
        case .reapCandidates: "reapCandidates"
        case .readCopies: "readCopies"
        case .reap: "reap"
        case .dropPartition: "dropPartition"
        case .collectAcceptors: "collectAcceptors"
        case .readAcceptorStates: "readAcceptorStates"
        }
    }

    var key: [UInt8]? {
        switch self {
        case .read(let key, _, _), .write(let key, _, _, _), .merge(let key, _, _): key
        case .readAcceptor(let key, _), .writePaxos(let key, _): key
        case .putHint(let entry): entry.key
        case .reap(let key, _, _): key
        case .readHints, .readTree, .segmentObjects, .readBatch, .heldPartitions, .scan, .reapCandidates, .readCopies,
             .dropPartition, .collectAcceptors, .readAcceptorStates: nil
        }
    }
}

extension WireMessage {
    var isNack: Bool { if case .nack = self { true } else { false } }

    var isFailedRead: Bool { if case .readReply(.failed) = self { true } else { false } }
}

extension ClientReadResult {
    /// The live values found (empty unless `.found`).
    var values: [[UInt8]] {
        guard case .found(let object) = self else { return [] }
        return object.values(at: CoreHarness.wallEpoch)
    }
}
