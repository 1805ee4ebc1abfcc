import CairnCore
import CairnNodeCore
import Testing

/// What a node does with its peers' requests: forwarded writes coordinated at most once, and
/// requests that do not fit this node's ring or tree refused without harm.
@Suite("Peer requests")
struct PeerRequestTests {
    let key: [UInt8] = Array("key".utf8)
    let peer = NodeID.test(2)
    let stranger = NodeID.test(3)

    func forward(by node: NodeID, id: UInt64) -> WireMessage {
        .forwardedWrite(ForwardedWrite(
            key: key, context: CausalContext(), sibling: .value([9]), w: 1, n: 1, timeoutMilliseconds: 5_000,
            forwardedBy: node, forwardID: id))
    }

    @Test("a forward seen twice is refused the second time and mints one dot")
    func duplicateForward() {
        var node = CoreHarness.single()
        node.start()
        node.admit(peer, number: 2)
        node.admit(stranger, number: 3)

        let first = node.peerRequest(from: peer, reply: 10, forward(by: peer, id: 42))
        #expect(first.storageKinds == ["read"])
        let duplicate = node.peerRequest(from: peer, reply: 11, forward(by: peer, id: 42))
        #expect(duplicate.count == 1)
        #expect(duplicate.responses.map(\.reply) == [11])
        #expect(duplicate.responses.first?.message.isNack == true)

        let done = node.completeAll()
        #expect(node.log.storageKinds.filter { $0 == "write" }.count == 1, "one coordination, one dot")
        #expect(done.responses.map(\.reply) == [10])
        guard case .writeOutcome(.stored)? = done.responses.first?.message else {
            Issue.record("the first forward was not stored: \(done.responses)")
            return
        }
        #expect(node.disk.records[key]?.object.siblings.count == 1)

        // A late copy, after the first was answered, is still a duplicate.
        let late = node.peerRequest(from: peer, reply: 12, forward(by: peer, id: 42))
        #expect(late.responses.first?.message.isNack == true)
        #expect(late.storage.isEmpty)

        // The same id from another node is another write.
        let otherNode = node.peerRequest(from: stranger, reply: 13, forward(by: stranger, id: 42))
        #expect(otherNode.storageKinds == ["read"])
        #expect(otherNode.responses.isEmpty)
    }

    @Test("requests naming a partition outside the ring are refused at once")
    func partitionsOutsideTheRing() throws {
        var node = CoreHarness.single()
        node.start()
        node.admit(peer, number: 2)
        node.admit(stranger, number: 3)
        let q = try #require(node.core.ring).partitionCount
        let object = DVVSet<[UInt8]>.new([1], by: ReplicaActor(node: peer, epoch: 1))
        let requests: [WireMessage] = [
            .read(ReadRequest(key: key, partition: q)),
            .read(ReadRequest(key: key, partition: -1)),
            .replicate(Replicate(key: key, partition: q + 5, object: object)),
            .hintBatch([HintItem(partition: 0, key: key, object: object), HintItem(partition: q, key: key, object: object)]),
            .handoffBatch(HandoffBatch(partition: -2, items: [KeyedObject(key: key, object: object)], cursor: nil, isLast: true)),
            .merkleHashesRequest(partition: q, MerkleExchange.Request(level: 0, indices: [0])),
            .segmentObjectsRequest(SegmentObjectsRequest(partition: Int.min, segments: [0])),
        ]
        for (index, request) in requests.enumerated() {
            let reply = UInt64(index + 1)
            let answer = node.peerRequest(from: peer, reply: reply, request)
            #expect(answer.count == 1, "\(request)")
            #expect(answer.responses.map(\.reply) == [reply])
            let refused = answer.responses.first.map { $0.message.isNack || $0.message.isFailedRead } ?? false
            #expect(refused, "\(request) answered \(answer.responses)")
        }
        #expect(node.pendingStorage.isEmpty)
        #expect(node.core.isQuiescent)
        #expect(node.disk.records.isEmpty && node.disk.hints.isEmpty)
    }

    @Test("Merkle requests outside the tree are refused once the tree is read; one inside is answered")
    func merkleRequestsOutsideTheTree() throws {
        var node = CoreHarness.single()
        node.start()
        node.admit(peer, number: 2)
        node.admit(stranger, number: 3)
        let tree = MerkleTree()  // the shape `FakeDisk` answers with
        let outside: [MerkleExchange.Request] = [
            .init(level: tree.levels + 1, indices: [0]),
            .init(level: -1, indices: [0]),
            .init(level: 1, indices: [tree.fanout]),
            .init(level: 0, indices: [-1]),
            .init(level: tree.levels, indices: Array(repeating: 0, count: tree.segmentCount + 1)),
        ]
        for (index, request) in outside.enumerated() {
            let reply = UInt64(index + 1)
            let asked = node.peerRequest(from: peer, reply: reply, .merkleHashesRequest(partition: 0, request))
            #expect(asked.storageKinds == ["readTree"])
            let answer = node.completeAll()
            #expect(answer.responses.map(\.reply) == [reply])
            #expect(answer.responses.first?.message.isNack == true, "\(request) answered \(answer.responses)")
        }

        let inside = MerkleExchange.Request(level: 1, indices: [0, tree.fanout - 1])
        _ = node.peerRequest(from: peer, reply: 99, .merkleHashesRequest(partition: 0, inside))
        let answer = node.completeAll()
        guard case .merkleHashes(let hashes)? = answer.responses.first?.message else {
            Issue.record("a request inside the tree was not answered with hashes: \(answer.responses)")
            return
        }
        #expect(hashes.count == 2)
        #expect(node.core.isQuiescent)
    }

    @Test("a member's acceptor states of one partition go to a node that gained it, page by page, saying whether it still replicates it")
    func acceptorStatesForANodeThatGainedThePartition() {
        var settings = NodeCore.Settings.single
        settings.casStatesPageSize = 2
        var node = CoreHarness(core: CoreHarness.single(settings).core)
        node.start()
        node.admit(peer, number: 2)
        let keys = (0..<40).map { Array("k\($0)".utf8) }
        for key in keys { node.disk.paxos[key] = CAS.AcceptorState(promised: CAS.Ballot(counter: 9, node: peer)) }
        let partition = node.partition(of: keys[0])
        var listed: [[UInt8]] = []
        var after: [UInt8]?
        var pages = 0
        repeat {
            _ = node.peerRequest(from: peer, reply: UInt64(100 + pages), .casStatesRequest(partition: partition, after: after))
            guard case .casStates(let page)? = node.completeAll().responses.first?.message else {
                Issue.record("no page")
                return
            }
            #expect(page.replicates, "a single node replicates every partition")
            #expect(page.states.count <= 2)
            listed += page.states.map(\.key)
            after = page.next
            pages += 1
        } while after != nil && pages < 100
        #expect(Set(listed) == Set(keys.filter { node.partition(of: $0) == partition }), "exactly the partition's keys")
        #expect(pages >= 20, "every stored state examined, two per page")
        #expect(node.core.isQuiescent)
    }

    @Test("a message that is no data-path request, or a CAS reply sent as a request, gets a nack")
    func foreignRequests() {
        var node = CoreHarness.single()
        node.start()
        node.admit(peer, number: 2)
        node.admit(stranger, number: 3)
        let ack = node.peerRequest(from: peer, reply: 1, .ack)
        #expect(ack.responses.map(\.reply) == [1])
        #expect(ack.responses.first?.message.isNack == true)

        // A promise is an acceptor's answer; as a request the acceptor has nothing to say.
        let promise = CAS.Message.promise(CAS.Ballot(counter: 5, node: peer), accepted: nil, committed: .initial, object: nil)
        _ = node.peerRequest(from: peer, reply: 2, .cas(key: key, promise))
        let answer = node.completeAll()
        #expect(answer.responses.map(\.reply) == [2])
        #expect(answer.responses.first?.message.isNack == true)
        #expect(node.disk.paxos[key] == nil, "nothing persisted for a message that changes nothing")

        // A read repair outside the ring is dropped silently (it is one-way).
        let object = DVVSet<[UInt8]>.new([1], by: ReplicaActor(node: peer, epoch: 1))
        let repair = node.peerMessage(from: peer, .readRepair(Replicate(key: key, partition: 1 << 20, object: object)))
        #expect(repair.isEmpty)
        #expect(node.core.isQuiescent)
    }

    @Test("a process that is no member is refused the data path, and gossip naming another sender is ignored")
    func nonMembersAreRefused() {
        var node = CoreHarness.single()
        node.start()
        let read = WireMessage.read(ReadRequest(key: key, partition: node.partition(of: key)))
        let refused = node.peerRequest(from: stranger, reply: 1, read)
        #expect(refused.responses.map(\.reply) == [1])
        #expect(refused.responses.first?.message.isNack == true)
        #expect(refused.storage.isEmpty, "a non-member's read touches no storage")
        let object = DVVSet<[UInt8]>.new([1], by: ReplicaActor(node: stranger, epoch: 1))
        let repair = node.peerMessage(from: stranger, .readRepair(Replicate(key: key, partition: node.partition(of: key), object: object)))
        #expect(repair.storage.isEmpty, "a non-member's read repair is dropped")

        // Gossip in which `stranger` speaks for `peer` (marking it a member) changes nothing.
        let forged = Membership.Envelope(clusterName: "test", from: peer, fromAddress: NodeID.address(2))
        let entry = Membership.Member(id: peer, address: NodeID.address(2), status: .joining, incarnation: 1)
        node.peerMessage(from: stranger, .membership(.update(forged, members: [entry], ring: nil)))
        #expect(node.core.cluster.members[peer] == nil)
        #expect(node.peerRequest(from: peer, reply: 2, read).responses.first?.message.isNack == true)

        // A stranger's gossip speaks for the stranger only: a tombstone it carries for this node
        // (a forged `removed`) is dropped, and so is a ring.
        let me = NodeID.test(1)
        let strangerEnvelope = Membership.Envelope(clusterName: "test", from: stranger, fromAddress: NodeID.address(3))
        let removal = Membership.Member(id: me, address: NodeID.address(1), status: .removed, incarnation: 9)
        node.peerMessage(from: stranger, .membership(.update(strangerEnvelope, members: [removal], ring: nil)))
        #expect(node.core.cluster.members[me]?.status == .valid, "a stranger removed this node")

        // Its own gossip makes it a member: then its read is served.
        node.admit(peer, number: 2)
        #expect(node.peerRequest(from: peer, reply: 3, read).storageKinds == ["read"])
    }
}
