import CairnCore
import CairnHTTP
import CairnWire
import Foundation
import Logging
import NIOCore

@testable import CairnNode
@testable import CairnStorage

/// The seed corpora: a few well-formed inputs per target, from which libFuzzer mutates
/// (`cairn-fuzz --seeds Fuzz/corpus` writes them; Scripts/fuzz.sh does when they are missing).
enum FuzzSeeds {
    static let a = CoreFuzz.member
    static let b = NodeID(high: 0x1111_2222_3333_4444, low: 0x5555_6666_7777_8888)

    /// `member` with the proof of `key` (valid when the key derives the member's identity).
    static func signed(_ member: Membership.Member, by key: NodeSigningKey) -> Membership.Member {
        var member = member
        member.proof = key.sign(member.signedMessage(clusterName: "fuzz"))
        return member
    }
    static let key: [UInt8] = Array("user:42".utf8)

    static var object: DVVSet<[UInt8]> {
        var object = DVVSet<[UInt8]>.new([1, 2, 3], by: ReplicaActor(node: a, epoch: 0))
        object.update(with: CausalContext(), value: Array("concurrent".utf8), expiry: WallClockTime(millisecondsSince1970: 1_700_000_000_000),
                      by: ReplicaActor(node: b, epoch: 3))
        return object
    }

    static var messages: [WireMessage] {
        let envelope = Membership.Envelope(clusterName: "fuzz", from: a, fromAddress: "127.0.0.2:7070")
        let members = [
            signed(Membership.Member(id: a, address: "127.0.0.2:7070", status: .valid, incarnation: 3), by: CoreFuzz.keys[1]),
            Membership.Member(id: b, address: "127.0.0.3:7070", status: .leaving, incarnation: 9),
            // A removal of the node under test, signed by a member not in its ring: refused.
            signed(Membership.Member(id: CoreFuzz.me, address: "127.0.0.1:7070", status: .removed, incarnation: 1), by: CoreFuzz.keys[1]),
        ]
        let ring = Membership.VersionedRing(version: 7, ring: Ring(members: [NodeID(high: 0, low: 1), a, b], partitionCount: 16, targetReplicas: 3))
        let ballot = CAS.Ballot(counter: 12, node: a)
        let proposal = CAS.Proposal(ballot: ballot, value: [7], context: object.join(), wallTime: WallClockTime(millisecondsSince1970: 1_700_000_000_000))
        return [
            .membership(.digest(envelope, versions: Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0.version) }), ring: ring.stamp)),
            .membership(.delta(envelope, members: members, ring: ring, wanted: [b], wantsRing: true)),
            .membership(.update(envelope, members: members, ring: ring)),
            .membership(.heartbeat(envelope, sequence: 77)),
            .read(ReadRequest(key: key, partition: 5)),
            .replicate(Replicate(key: key, partition: 5, object: object)),
            .readRepair(Replicate(key: key, partition: 5, object: object)),
            .forwardedWrite(ForwardedWrite(key: key, context: object.join(), sibling: .value([4]), w: 2, n: 3, timeoutMilliseconds: 5_000,
                                           forwardedBy: a, forwardID: 9)),
            .hintBatch([HintItem(partition: 5, key: key, object: object)]),
            .cas(key: key, .prepare(ballot)),
            .cas(key: key, .propose(proposal)),
            .cas(key: key, .commit(proposal)),
            .casStatesRequest(partition: 5, after: nil),
            .handoffRequest(partition: 5),
        ]
    }

    static func frames(_ messages: [WireMessage]) throws -> [UInt8] {
        var buffer = ByteBuffer()
        for (index, message) in messages.enumerated() {
            try FrameEncoder.encode(message.frame(requestID: UInt64(index)), into: &buffer, maxFrameBytes: WireLimits.defaultMaxFrameBytes)
        }
        return Array(buffer.readableBytesView)
    }

    static func inputs() throws -> [String: [[UInt8]]] {
        let http = [
            "GET /v1/keys/user%3A42 HTTP/1.1\r\nHost: x\r\n\r\n",
            "PUT /v1/keys/k?ttl=5&w=2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\nabc",
            "PUT /v1/keys/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r\n{\"value\":\"v\",\"ttl\":10}",
            "POST /v1/keys/k/cas HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n{\"expected\":null,\"value\":\"a\"}",
            "GET /v1/keys?prefix=user&limit=10&values=true HTTP/1.1\r\nHost: x\r\n\r\nDELETE /v1/keys/k HTTP/1.1\r\nHost: x\r\nIf-Match: *\r\n\r\n",
            "GET /v1/cluster HTTP/1.1\r\nHost: x\r\n\r\nPOST /v1/cluster/remove HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"node\":\"a\"}",
        ].map { Array($0.utf8) }
        let json = [#"{"value":"v","ttl":10,"nested":[1,2.5e3,-0,true,false,null,"\u00e9\ud83d\ude00"]}"#, "[]", #"{"a":{"b":{"c":[[[]]]}}}"#]
            .map { Array($0.utf8) }
        let resp = [
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
            "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$2\r\n10\r\n",
            "*6\r\n$4\r\nSCAN\r\n$1\r\n0\r\n$5\r\nMATCH\r\n$5\r\nuser*\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n",
            "PING\r\nECHO hello\r\n",
            "*3\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*2\r\n$13\r\nCAIRN.GETALL\r\n$1\r\nk\r\n",
        ].map { Array($0.utf8) }
        let messages = messages
        let wire = try messages.map { try frames([$0]) } + [try frames(messages)]
        let hello = Handshake.Message.hello(Handshake.Hello(
            clusterName: "fuzz", node: b, listenAddress: "127.0.0.3:7070", nonce: Array(repeating: 3, count: Handshake.nonceBytes), requiresProof: true))
        var handshake = ByteBuffer()
        try FrameEncoder.encode(hello.frame(), into: &handshake, maxFrameBytes: WireLimits.defaultMaxFrameBytes)
        try FrameEncoder.encode(Handshake.Message.proof(Array(repeating: 5, count: 32)).frame(), into: &handshake,
                                maxFrameBytes: WireLimits.defaultMaxFrameBytes)
        let context = object.join()
        let record = ReplicaStore.encode(mintEpoch: 3, objectBytes: object.encode())
        return [
            "http": http,
            "json": json,
            "resp": resp,
            "wire": wire,
            "handshake": [Array(handshake.readableBytesView)],
            "dvvset": [object.encode(), DVVSet<[UInt8]>().encode()],
            "context": [Array(ContextSeal.unconfigured.token(context).utf8), context.encode()],
            "replica-record": [record, CommitLog.encode(.put(store: 3, key: key, value: record)), CommitLog.encode(.dropped(store: 1))],
            "storage-record": [try dataFile()],
            "core": [try frames(messages)] + messages.map { (try? frames([$0])) ?? [] },
        ]
    }

    /// A data file as an engine writes it: puts, an overwrite, a delete, an expiring value.
    static func dataFile() throws -> [UInt8] {
        let directory = "/tmp/cairn-fuzz-seed-\(getpid())"
        try? DurableFiles.removeDirectory(directory)
        defer { try? DurableFiles.removeDirectory(directory) }
        let engine = try StorageEngine(directory: directory, options: StorageOptions(durability: .none), logger: quietLogger)
        try engine.put(Array("a".utf8), Array("first".utf8))
        try engine.put(Array("a".utf8), Array("second".utf8))
        try engine.put(Array("b".utf8), Array(repeating: 7, count: 300))
        try engine.delete(Array("b".utf8))
        try engine.put(Array("c".utf8), object.encode())
        try engine.close()
        let path = directory + "/" + DataFile.name(id: 1)
        guard let data = FileManager.default.contents(atPath: path) else { throw CocoaError(.fileNoSuchFile) }
        return Array(data)
    }

    static func write(to root: String) throws {
        for (target, inputs) in try inputs() {
            let directory = root + "/" + target
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (index, input) in inputs.enumerated() where !input.isEmpty {
                try Data(input).write(to: URL(fileURLWithPath: directory + "/seed-\(index)"))
            }
        }
        print("cairn-fuzz: wrote seeds for \(FuzzTargets.all.count) targets under \(root)")
    }
}
