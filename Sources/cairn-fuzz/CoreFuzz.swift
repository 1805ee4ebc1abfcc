import CairnCore
import CairnNode
import CairnNodeCore
import CairnWire
import Glibc
import Logging
import NIOCore

@testable import CairnStorage

/// Peer messages decoded from the fuzzer's bytes, fed to one node's core: first from a member,
/// then from a process that is not one. The core is pure (commands out, nothing executed), so
/// what is checked is that no message, in any order, traps it.
enum CoreFuzz {
    // Fixed keys, so the seeds' proofs verify: the node, a member, and a process that is not one.
    static let keys = (1...3).map { NodeSigningKey(rawRepresentation: [UInt8](repeating: UInt8($0), count: 32))! }
    static let me = keys[0].nodeID
    static let member = keys[1].nodeID
    static let stranger = keys[2].nodeID
    static let keyHash: @Sendable ([UInt8]) -> KeyHash = { bytes in
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return KeyHash(hash)
    }

    static func fresh() -> NodeCore {
        let membership = Membership.Instance.bootstrap(
            me, address: "127.0.0.1:7070", clusterName: "fuzz", partitionCount: 16, targetReplicas: 3, signatures: keys[0])
        var core = NodeCore(
            id: me, settings: NodeCore.Settings(replicas: 3, readQuorum: 2, writeQuorum: 2), membership: membership, persistedLease: 0,
            hints: [], handoff: nil, now: .zero, wallNow: WallClockTime(millisecondsSince1970: 1_700_000_000_000), incarnation: 1,
            keyHash: keyHash)
        var now = MonotonicTime.zero
        var wall = WallClockTime(millisecondsSince1970: 1_700_000_000_000)
        _ = core.start(now: now, wallNow: wall)
        let envelope = Membership.Envelope(clusterName: "fuzz", from: member, fromAddress: "127.0.0.2:7070")
        let entry = FuzzSeeds.signed(Membership.Member(id: member, address: "127.0.0.2:7070", status: .valid, incarnation: 1), by: keys[1])
        now = now + 1
        wall = WallClockTime(millisecondsSince1970: wall.millisecondsSince1970 + 1)
        _ = core.onPeerMessage(from: member, .membership(.update(envelope, members: [entry], ring: nil)), now: now, wallNow: wall)
        return core
    }

    static func feed(_ bytes: [UInt8]) {
        var core = fresh()
        var buffer = ByteBuffer(bytes: bytes)
        var step: UInt64 = 10
        var reply: UInt64 = 1
        while let frame = try? FrameDecoder.decodeFrame(from: &buffer, maxFrameBytes: WireLimits.defaultMaxFrameBytes) {
            guard let message = try? WireMessage(frame: frame) else { continue }
            step += 1
            let now = MonotonicTime(milliseconds: step * 100)
            let wall = WallClockTime(millisecondsSince1970: 1_700_000_000_000 + step * 100)
            // The frame's request id picks the sender, so both paths are reached.
            let peer = frame.requestID % 2 == 0 ? member : stranger
            if NodeCore.handles(request: message) {
                reply += 1
                _ = core.onPeerRequest(from: peer, reply: reply, message, now: now, wallNow: wall)
            } else {
                _ = core.onPeerMessage(from: peer, message, now: now, wallNow: wall)
            }
            _ = core.onTimer(.membership, random: step &* 0x9E37_79B9_7F4A_7C15, now: now, wallNow: wall)
        }
    }
}

/// Recovery of an engine from a data file holding arbitrary bytes.
enum StorageFuzz {
    static let directory = "/tmp/cairn-fuzz-storage-\(getpid())"

    static func recover(_ bytes: [UInt8]) {
        try? DurableFiles.removeDirectory(directory)
        try? DurableFiles.makeDirectory(directory)
        let path = directory + "/" + DataFile.name(id: 1)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        var options = StorageOptions(durability: .none)
        options.maxFileSizeBytes = 1 << 20
        guard let engine = try? StorageEngine(directory: directory, options: options, logger: quietLogger) else { return }
        if let keys = try? engine.scan(prefix: [], limit: 1_000) {
            for key in keys { _ = try? engine.get(key) }
        }
        _ = try? engine.put([1], [2])
        try? engine.close()
    }
}
