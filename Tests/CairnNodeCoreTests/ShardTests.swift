import CairnCore
import CairnNodeCore
import Testing

/// A node that runs several core instances (`Shard`): each owns its own partitions, the router
/// hands every key to the instance that owns it, ids never collide between instances, and the
/// home instance's ring changes reach the others, each planning handoff for its own partitions.
@Suite("Shards")
struct ShardTests {
    static let me = NodeID.test(1)
    static let other = NodeID.test(2)

    static func instances(count: Int, settings: NodeCore.Settings = .single) -> [CoreHarness] {
        let membership = Membership.Instance.bootstrap(
            me, address: NodeID.address(1), clusterName: "test", partitionCount: 64, targetReplicas: settings.replicas)
        return Shard.all(count: count).map { shard in
            CoreHarness(core: NodeCore(
                id: me, shard: shard, settings: settings, membership: membership, persistedLease: 0, hints: [], handoff: nil,
                now: .zero, wallNow: CoreHarness.wallEpoch, incarnation: UInt32(7 + shard.index), keyHash: CoreHarness.keyHash))
        }
    }

    @Test("each key's requests go to the instance that owns its partition; the others refuse them")
    func routing() throws {
        var nodes = Self.instances(count: 3)
        for index in nodes.indices { nodes[index].start() }
        // The home instance learns of the peer by gossip and tells the others.
        let published = nodes[0].admit(Self.other, number: 2).compactMap { command -> ClusterSnapshot? in
            if case .publishCluster(let snapshot) = command { snapshot } else { nil }
        }
        for index in nodes.indices.dropFirst() { _ = nodes[index].cluster(published.last!) }
        let router = ShardRouter(shardCount: 3, partitionCount: 64, keyHash: CoreHarness.keyHash)
        var owners: Set<Int> = []
        var random = SplitMix64(seed: 3)
        for number in 0..<60 {
            let bits = random.next()
            let key = (0..<8).map { UInt8(truncatingIfNeeded: bits >> ($0 * 8)) }
            let partition = nodes[0].partition(of: key)
            let owner = router.shard(forKey: key)
            owners.insert(owner)
            #expect(owner == partition % 3)
            let object = DVVSet<[UInt8]>.new([UInt8(truncatingIfNeeded: number)], by: ReplicaActor(node: Self.other, epoch: 1))
            let message = WireMessage.replicate(Replicate(key: key, partition: partition, object: object))
            #expect(router.shard(for: message) == owner)
            for index in nodes.indices {
                let commands = nodes[index].peerRequest(from: Self.other, reply: UInt64(number), message)
                if index == owner {
                    #expect(commands.storageKinds == ["merge"], "the owner stores it")
                } else {
                    #expect(commands.responses.first?.message.isNack == true, "instance \(index) refuses partition \(partition)")
                    #expect(commands.storage.isEmpty)
                }
            }
        }
        #expect(owners == [0, 1, 2])
        // Membership and anything before the partition count is known go home.
        #expect(ShardRouter(shardCount: 3, partitionCount: nil, keyHash: CoreHarness.keyHash).shard(forKey: [1, 2, 3]) == 0)
        #expect(router.shard(for: .leaveRequest(ringVersion: 3)) == 0)
    }

    @Test("the node's budgets are shared out among its instances")
    func budgets() {
        let node = NodeCore.Settings()
        let share = node.divided(among: 3)
        #expect(share.maxRequestsInFlight == node.maxRequestsInFlight / 3)
        #expect(share.handoffBytesPerSecond == node.handoffBytesPerSecond / 3)
        #expect(share.hintLimits.maxBytes == node.hintLimits.maxBytes / 3)
        #expect(share.handoffConcurrency == 1)
        #expect(share.requestTimeoutMilliseconds == node.requestTimeoutMilliseconds, "rules stay as they are")
        #expect(node.divided(among: 1) == node)
    }

    @Test("instances never hand out the same mint epoch or hint id, also after a restart with another count")
    func disjointIDs() {
        var epochs: Set<UInt64> = []
        var leases: [UInt64] = []
        for shard in Shard.all(count: 2) {
            var mint = MintEpochs(node: Self.me, persistedLease: 0, leaseSize: 4, stride: 2, offset: UInt64(shard.index))
            for _ in 0..<10 {
                let (actor, lease) = mint.allocate()
                #expect(epochs.insert(actor.epoch).inserted, "epoch \(actor.epoch) handed out twice")
                if let lease { leases.append(lease) }
            }
        }
        // Restarted with three instances: each starts above the highest lease any persisted.
        let floor = leases.max() ?? 0
        for shard in Shard.all(count: 3) {
            var mint = MintEpochs(node: Self.me, persistedLease: floor, leaseSize: 4, stride: 3, offset: UInt64(shard.index))
            for _ in 0..<10 {
                let epoch = mint.allocate().actor.epoch
                #expect(epoch >= floor)
                #expect(epochs.insert(epoch).inserted, "epoch \(epoch) handed out twice after the restart")
            }
        }

        var ids: Set<UInt64> = []
        var ledgers = Shard.all(count: 2).map { HintLedger(idStride: 2, idOffset: UInt64($0.index)) }
        for index in ledgers.indices {
            for number in 0..<5 {
                for case .persist(let hint) in ledgers[index].store(
                    owner: Self.other, partition: number, keyHash: KeyHash(UInt64(number)), bytes: 1, now: CoreHarness.wallEpoch) {
                    #expect(ids.insert(hint.id).inserted, "hint id \(hint.id) handed out twice")
                }
            }
        }
        var restarted = HintLedger(idStride: 3, idOffset: 1)
        _ = restarted.restore([], now: CoreHarness.wallEpoch, idFloor: (ids.max() ?? 0) + 1)
        for case .persist(let hint) in restarted.store(owner: Self.other, partition: 0, keyHash: KeyHash(1), bytes: 1, now: CoreHarness.wallEpoch) {
            #expect(!ids.contains(hint.id) && hint.id % 3 == 1)
        }
    }

    @Test("a ring change the home instance publishes makes each other instance plan handoff of its own partitions only")
    func publishedRingChange() throws {
        var nodes = Self.instances(count: 2, settings: NodeCore.Settings(replicas: 2, readQuorum: 1, writeQuorum: 1))
        for index in nodes.indices { nodes[index].start() }
        let ring = Ring(members: [Self.me, Self.other], partitionCount: 64, targetReplicas: 2)
        let snapshot = ClusterSnapshot(
            ring: Membership.VersionedRing(version: 2, ring: ring),
            members: [Self.me: .init(id: Self.me, address: NodeID.address(1), status: .valid, incarnation: 1),
                      Self.other: .init(id: Self.other, address: NodeID.address(2), status: .valid, incarnation: 1)],
            reachable: [Self.me, Self.other])

        #expect(nodes[0].cluster(snapshot).isEmpty, "the home instance runs membership itself")
        let commands = nodes[1].cluster(snapshot)
        let requests = commands.compactMap { command -> Int? in
            if case .send(_, .handoffRequest(let partition)) = command { return partition }
            return nil
        }
        let transfers = nodes[1].core.transferProgress.map(\.transfer)
        #expect(!transfers.isEmpty || !requests.isEmpty, "the ring change moves partitions of this instance")
        #expect(transfers.allSatisfy { $0.partition % 2 == 1 && $0.target == Self.other })
        #expect(requests.allSatisfy { $0.isMultiple(of: 2) == false })
        #expect(nodes[0].core.transferProgress.isEmpty, "nothing moved on the home instance without its own ring change")
    }
}
