import CairnCore
import CairnNodeCore
import Testing

/// One `NodeCore` driven by hand: a manual clock, a `FakeDisk`, and storage completions that
/// reach the core only when the test says so (`complete`, `completeAll`), so a test can check
/// what the core does *before* its storage is durable. Every event method returns the commands
/// that event produced (and, with `completesStorageAtOnce`, those its storage completions
/// produced in turn), and keeps them: storage operations wait in `pendingStorage`, network
/// commands in `outbox` (for `TestCluster`), timers in `timers`, everything in `log`.
struct CoreHarness {
    /// Wall-clock milliseconds at monotonic time 0.
    static let wallEpoch = WallClockTime(millisecondsSince1970: 1_700_000_000_000)

    var core: NodeCore
    var disk = FakeDisk()
    /// The monotonic clock in milliseconds; the wall clock follows it.
    var now: MonotonicTime = .zero
    var wallNow: WallClockTime { Self.wallEpoch + now.milliseconds }
    /// Storage operations issued and not completed yet, in issue order.
    private(set) var pendingStorage: [(operation: UInt64, command: StorageCommand)] = []
    /// Completes each storage operation as it is issued (as the simulator does).
    var completesStorageAtOnce = false
    /// Stores each `.persistMintLease` and tells the core; when false it is only logged (the
    /// test then plays the executor's part of a failed lease).
    var persistsLeases = true
    /// `.request`, `.respond`, `.send` and `.sendTo` commands not taken by a network yet.
    var outbox: [NodeCommand] = []
    private(set) var timers: [(timer: NodeTimer, at: MonotonicTime)] = []
    /// Every command this core returned, in order.
    private(set) var log: [NodeCommand] = []

    init(core: NodeCore) { self.core = core }

    /// A single-node cluster (N = R = W = 1 unless `settings` says otherwise), not started.
    static func single(_ settings: NodeCore.Settings = .single) -> CoreHarness {
        let id = NodeID.test(1)
        let membership = Membership.Instance.bootstrap(
            id, address: NodeID.address(1), clusterName: "test", partitionCount: 64, targetReplicas: settings.replicas)
        return CoreHarness(core: makeCore(id: id, settings: settings, membership: membership))
    }

    static func makeCore(id: NodeID, settings: NodeCore.Settings, membership: Membership.Instance) -> NodeCore {
        NodeCore(id: id, settings: settings, membership: membership, persistedLease: 0, hints: [], handoff: nil,
                 now: .zero, wallNow: wallEpoch, incarnation: 7, keyHash: Self.keyHash)
    }

    /// FNV-1a: any stable hash will do, the tests never depend on where a key lands.
    static let keyHash: @Sendable ([UInt8]) -> KeyHash = { bytes in
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return KeyHash(hash)
    }

    /// The partition of `key` in this core's ring.
    func partition(of key: [UInt8]) -> Int { core.ring!.partition(for: Self.keyHash(key)) }

    // MARK: events

    @discardableResult
    mutating func start() -> [NodeCommand] { feed { core, now, wall in core.start(now: now, wallNow: wall) } }

    /// Hands the home instance's published view of the cluster to this instance.
    mutating func cluster(_ snapshot: ClusterSnapshot) -> [NodeCommand] {
        feed { core, now, wall in core.onCluster(snapshot, now: now, wallNow: wall) }
    }

    mutating func write(_ client: UInt64, key: [UInt8], value: [UInt8], supersedes: Supersedes = .nothing)
        -> [NodeCommand]
    {
        feed { core, now, wall in
            core.onClientWrite(client: client, key: key, sibling: .value(value), supersedes: supersedes, w: nil, now: now,
                               wallNow: wall)
        }
    }

    mutating func delete(_ client: UInt64, key: [UInt8], supersedes: Supersedes) -> [NodeCommand] {
        feed { core, now, wall in
            core.onClientWrite(client: client, key: key, sibling: .tombstone, supersedes: supersedes, w: nil, now: now, wallNow: wall)
        }
    }

    mutating func read(_ client: UInt64, key: [UInt8]) -> [NodeCommand] {
        feed { core, now, wall in core.onClientRead(client: client, key: key, r: nil, now: now, wallNow: wall) }
    }

    mutating func cas(_ client: UInt64, key: [UInt8], _ operation: CAS.Proposer.Operation) -> [NodeCommand] {
        feed { core, now, wall in
            core.onClientCAS(client: client, key: key, operation: operation, random: client, now: now, wallNow: wall)
        }
    }

    mutating func peerRequest(from peer: NodeID, reply: UInt64, _ message: WireMessage) -> [NodeCommand] {
        feed { core, now, wall in core.onPeerRequest(from: peer, reply: reply, message, now: now, wallNow: wall) }
    }

    /// Makes `peer` a member (a `joining` one, which owns no partitions) the way a node joins:
    /// gossip from it naming itself. Only members use the data path.
    @discardableResult
    mutating func admit(_ peer: NodeID, number: UInt64) -> [NodeCommand] {
        let envelope = Membership.Envelope(clusterName: "test", from: peer, fromAddress: NodeID.address(number))
        let entry = Membership.Member(id: peer, address: NodeID.address(number), status: .joining, incarnation: 1)
        return peerMessage(from: peer, .membership(.update(envelope, members: [entry], ring: nil)))
    }

    @discardableResult
    mutating func peerMessage(from peer: NodeID, _ message: WireMessage) -> [NodeCommand] {
        feed { core, now, wall in core.onPeerMessage(from: peer, message, now: now, wallNow: wall) }
    }

    @discardableResult
    mutating func response(call: UInt64, _ message: WireMessage?) -> [NodeCommand] {
        feed { core, now, wall in core.onResponse(call: call, message, now: now, wallNow: wall) }
    }

    @discardableResult
    mutating func fire(_ timer: NodeTimer, random: UInt64 = 0) -> [NodeCommand] {
        feed { core, now, wall in core.onTimer(timer, random: random, now: now, wallNow: wall) }
    }

    // MARK: storage completions

    /// Completes the pending storage operation `operation`: on the disk, or with `result`
    /// when given (the disk is then left alone).
    mutating func complete(_ operation: UInt64, with result: StorageResult? = nil) -> [NodeCommand] {
        guard let index = pendingStorage.firstIndex(where: { $0.operation == operation }) else {
            Issue.record("no pending storage operation \(operation)")
            return []
        }
        let command = pendingStorage.remove(at: index).command
        let outcome = result ?? disk.perform(command)
        return feed { core, now, wall in core.onStorage(operation: operation, outcome, now: now, wallNow: wall) }
    }

    /// Completes pending storage, oldest first, until none is left (completions may issue more).
    @discardableResult
    mutating func completeAll() -> [NodeCommand] {
        var commands: [NodeCommand] = []
        while let next = pendingStorage.first { commands += complete(next.operation) }
        return commands
    }

    // MARK: carrying out commands

    /// Feeds one event and carries out what it returns, as an executor would.
    private mutating func feed(_ event: (inout NodeCore, MonotonicTime, WallClockTime) -> [NodeCommand]) -> [NodeCommand] {
        let clock = now
        let wall = wallNow
        var emitted: [NodeCommand] = []
        var queue = event(&core, clock, wall)[...]
        while let command = queue.popFirst() {
            emitted.append(command)
            switch command {
            case .storage(let operation, let storage):
                if completesStorageAtOnce {
                    queue += core.onStorage(operation: operation, disk.perform(storage), now: clock, wallNow: wall)
                } else {
                    pendingStorage.append((operation, storage))
                }
            case .persistMintLease(let lease):
                guard persistsLeases else { continue }
                disk.mintLease = lease
                core.onMintLeasePersisted(lease)
            case .schedule(let timer, let at):
                timers.append((timer, at))
            case .deleteHint(let hint):
                disk.hints[hint] = nil
            case .request, .respond, .send, .sendTo:
                outbox.append(command)
            case .persistMembership, .persistHandoff, .replyRead, .replyWrite, .replyCAS, .replyScan, .notice, .publishCluster:
                break
            }
        }
        log += emitted
        return emitted
    }
}

extension NodeCore.Settings {
    /// One replica, quorums of one.
    static var single: NodeCore.Settings { NodeCore.Settings(replicas: 1, readQuorum: 1, writeQuorum: 1) }
}

extension NodeID {
    static func test(_ number: UInt64) -> NodeID { NodeID(high: 0, low: number) }
    static func address(_ number: UInt64) -> String { "node-\(number):7000" }
}
