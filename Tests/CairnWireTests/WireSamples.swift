import CairnCore
import CairnWire

/// Sample values for every message type, shared by the codec, fuzz and transport tests.
enum WireSamples {
    static let a = NodeID(high: 0x0102_0304_0506_0708, low: 0x090a_0b0c_0d0e_0f10)
    static let b = NodeID(high: 0x1111_2222_3333_4444, low: 0x5555_6666_7777_8888)
    static let c = NodeID(high: 0xffff_0000_ffff_0000, low: 1)

    static let actorA = ReplicaActor(node: a, epoch: 0)
    static let actorB = ReplicaActor(node: b, epoch: 3)

    /// An object with siblings from two actors, a tombstone and an expiring value.
    static var object: DVVSet<[UInt8]> {
        var object = DVVSet<[UInt8]>.new([1, 2, 3], by: actorA)
        object.update(with: CausalContext(), value: Array("concurrent".utf8), expiry: WallClockTime(millisecondsSince1970: 1_700_000_000_000), by: actorB)
        var other = DVVSet<[UInt8]>.new([9], by: actorB)
        other.delete(with: other.join(), by: actorB)
        return DVVSet.sync(object, other)
    }

    static var context: CausalContext { object.join() }

    static let key: [UInt8] = Array("user:42".utf8)

    static var envelope: Membership.Envelope {
        Membership.Envelope(clusterName: "test-cluster", from: a, fromAddress: "127.0.0.1:7000")
    }

    static var members: [Membership.Member] {
        [
            Membership.Member(id: a, address: "127.0.0.1:7000", status: .valid, incarnation: 3),
            Membership.Member(id: b, address: "127.0.0.2:7000", status: .leaving, incarnation: 9),
            Membership.Member(id: c, address: "[::1]:7000", status: .removed, incarnation: 0,
                              proof: Membership.Proof(key: Array(0..<32), signature: Array(32..<96))),
        ]
    }

    static var ring: Membership.VersionedRing {
        Membership.VersionedRing(version: 7, ring: Ring(members: [a, b, c], partitionCount: 16, targetReplicas: 3))
    }

    static var ballot: CAS.Ballot { CAS.Ballot(counter: 12, node: b) }

    /// At least one message of every type.
    static var messages: [WireMessage] {
        [
            .ack,
            .nack(reason: "disk full on partition 3"),
            .membership(.digest(envelope, versions: Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0.version) }),
                                ring: ring.stamp)),
            .membership(.digest(envelope, versions: [:], ring: nil)),
            .membership(.delta(envelope, members: members, ring: ring, wanted: [b, c], wantsRing: true)),
            .membership(.delta(envelope, members: [], ring: nil, wanted: [], wantsRing: false)),
            .membership(.update(envelope, members: members, ring: ring)),
            .membership(.heartbeat(envelope, sequence: 77)),
            .membership(.heartbeatReply(envelope, sequence: UInt64.max)),
            .read(ReadRequest(key: key, partition: 5)),
            .readReply(.found(object)),
            .readReply(.notFound),
            .readReply(.failed(reason: "corrupt record")),
            .replicate(Replicate(key: key, partition: 63, object: object, hintFor: c)),
            .replicate(Replicate(key: [0], partition: 0, object: object)),
            .forwardedWrite(ForwardedWrite(
                key: key, context: context, sibling: .value([0, 255, 7], expiry: WallClockTime(millisecondsSince1970: 5)), w: 2, n: 3,
                timeoutMilliseconds: 1_500, forwardedBy: a, forwardID: 7)),
            .forwardedWrite(ForwardedWrite(
                key: key, context: CausalContext(), sibling: .tombstone, w: 1, n: 1, timeoutMilliseconds: 0, forwardedBy: b, forwardID: .max)),
            .writeOutcome(.stored(context: context)),
            .writeOutcome(.failed(Quorum.Failure(keyHash: KeyHash(42), reason: .invalidQuorum(required: 0, n: 3)))),
            .writeOutcome(.failed(Quorum.Failure(keyHash: KeyHash(1), reason: .tooFewReachable(reachable: 1, required: 2)))),
            .writeOutcome(.failed(Quorum.Failure(keyHash: KeyHash(2), reason: .timedOut(received: 1, required: 2)))),
            .writeOutcome(.failed(Quorum.Failure(keyHash: KeyHash(3), reason: .tooFewSucceeded(succeeded: 1, failed: 2, required: 2)))),
            .writeOutcome(.failed(Quorum.Failure(keyHash: KeyHash(4), reason: .rejected(
                VersionError(.siblingLimitExceeded, "too many", limit: 100))))),
            .writeOutcome(.failed(Quorum.Failure(keyHash: KeyHash(5), reason: .rejected(
                VersionError(.malformed, "bad", offset: 17))))),
            .writeOutcome(.failed(Quorum.Failure(keyHash: KeyHash(6), reason: .localStoreFailed(message: "EIO")))),
            .writeOutcome(.failed(Quorum.Failure(keyHash: KeyHash(7), reason: .coordinatorNotTarget(forwardedBy: a)))),
            .writeOutcome(.failed(Quorum.Failure(keyHash: KeyHash(UInt64.max), reason: .coordinatorNotTarget(forwardedBy: nil)))),
            .readRepair(Replicate(key: key, partition: 1, object: object, hintFor: nil)),
            .hintBatch([HintItem(partition: 2, key: key, object: object), HintItem(partition: 9, key: [1], object: object)]),
            .hintBatch([]),
            .handoffBatch(HandoffBatch(partition: 4, items: [KeyedObject(key: key, object: object)], cursor: key, isLast: false)),
            .handoffBatch(HandoffBatch(partition: 4, items: [], cursor: nil, isLast: true)),
            .handoffRequest(partition: 63),
            .scanRequest(ScanRequest(partitions: [0, 5, 63], prefix: [], after: nil, limit: 100, values: false)),
            .scanRequest(ScanRequest(partitions: [], prefix: Array("user/".utf8), after: key, limit: 1, values: true)),
            .scanReply(ScanReply(items: [ScanItem(key: key), ScanItem(key: [1], object: object)], through: [2], unavailable: [7])),
            .scanReply(ScanReply(items: [], through: nil)),
            .reapCheck(ReapCheck(partition: 5, items: [ReapItem(key: key, history: object.join()), ReapItem(key: [1], history: CausalContext())])),
            .reapCheck(ReapCheck(partition: 0, items: [])),
            .reapCheckReply([true, false, true]),
            .reapCheckReply([]),
            .reapNow(partition: 9, [KeyedObject(key: key, object: object), KeyedObject(key: [1], object: object)]),
            .reapNow(partition: 0, []),
            .leaveRequest(ringVersion: 0),
            .leaveRequest(ringVersion: 12),
            .commitRequest(ringVersion: 0),
            .traced(context: ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "a=1, b=2"],
                    .read(ReadRequest(key: key, partition: 3))),
            .traced(context: [:], .replicate(Replicate(key: key, partition: 0, object: object))),
            .commitRequest(ringVersion: UInt64.max),
            .clockProbe(sequence: 7, sentAt: WallClockTime(millisecondsSince1970: 1_796_000_000_000)),
            .clockReply(sequence: UInt64.max, sentAt: WallClockTime(millisecondsSince1970: 0),
                        receivedAt: WallClockTime(millisecondsSince1970: WallClockTime.maxMillisecondsSince1970)),
            .merkleHashesRequest(partition: 3, MerkleExchange.Request(level: 1, indices: [0, 5, 31])),
            .merkleHashes([0, 1, UInt64.max]),
            .segmentObjectsRequest(SegmentObjectsRequest(partition: 3, segments: [7, 1023], after: key)),
            .segmentObjectsRequest(SegmentObjectsRequest(partition: 3, segments: [], after: nil)),
            .segmentObjects(SegmentObjects(items: [KeyedObject(key: key, object: object)], next: [0x7a])),
            .segmentObjects(SegmentObjects(items: [], next: nil)),
            .cas(key: key, .prepare(ballot)),
            .cas(key: key, .promise(ballot, accepted: CAS.Proposal(ballot: ballot, value: [1, 2]), committed: .initial, object: object)),
            .cas(key: key, .promise(ballot, accepted: nil, committed: CAS.Proposal(ballot: .zero, value: [], context: object.join()),
                                    object: nil)),
            .cas(key: key, .prepareRejected(ballot, promised: CAS.Ballot(counter: 99, node: c))),
            .cas(key: key, .propose(CAS.Proposal(ballot: ballot, value: nil))),
            .cas(key: key, .accepted(ballot)),
            .cas(key: key, .proposeRejected(ballot, promised: ballot)),
            .cas(key: key, .commit(CAS.Proposal(ballot: ballot, value: Array("v".utf8)))),
            .cas(key: key, .committed(ballot)),
            .casStatesRequest(partition: 7, after: nil),
            .casStatesRequest(partition: 0, after: key),
            .casStates(CASStatesPage(states: [
                CAS.KeyedAcceptorState(key: key, state: CAS.AcceptorState(
                    promised: ballot, accepted: CAS.Proposal(ballot: ballot, value: [1]), committed: .initial)),
                CAS.KeyedAcceptorState(key: [1], state: CAS.AcceptorState()),
            ], next: [2], replicates: false)),
            .casStates(CASStatesPage(states: [], next: nil, replicates: true)),
        ]
    }
}
