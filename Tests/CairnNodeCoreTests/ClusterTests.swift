import CairnCore
import CairnNodeCore
import Testing

/// Three and four cores over `TestCluster`'s network: replication, forwarding and Paxos across
/// nodes, with every table empty once the requests are answered.
@Suite("Cluster")
struct ClusterTests {
    let settings = NodeCore.Settings(replicas: 3, readQuorum: 2, writeQuorum: 2)

    @Test("a write at one node reaches all three replicas, and a read at another finds it")
    func replicatedWrite() {
        var cluster = TestCluster(size: 3, settings: settings)
        let key = Array("shared".utf8)
        guard case .stored? = cluster.write(at: 0, client: 1, key: key, value: [4, 2]) else {
            Issue.record("the write was not stored")
            return
        }
        for node in cluster.nodes {
            #expect(node.disk.records[key]?.object.values(atMilliseconds: node.wallNow) == [[4, 2]], "\(node.core.id)")
        }
        #expect(cluster.read(at: 2, client: 2, key: key)?.values == [[4, 2]])
        #expect(cluster.nodes.allSatisfy { $0.core.isQuiescent })
    }

    @Test("a write at a node outside the key's replicas is forwarded once and stored only by them")
    func forwardedWrite() throws {
        var cluster = TestCluster(size: 4, settings: settings)
        let outsider = NodeID.test(1)
        let ring = try #require(cluster.nodes[0].core.ring)
        let key = try #require((0..<1_000).lazy.map { Array("key-\($0)".utf8) }.first { key in
            !ring.preferenceList(for: ring.partition(for: CoreHarness.keyHash(key)), n: 3).contains(outsider)
        })

        guard case .stored? = cluster.write(at: 0, client: 1, key: key, value: [1]) else {
            Issue.record("the forwarded write was not stored")
            return
        }
        let forwards = cluster.nodes[0].log.compactMap { command -> UInt64? in
            guard case .request(_, _, .forwardedWrite(let forward), _) = command else { return nil }
            return forward.forwardID
        }
        #expect(forwards.count == 1)
        #expect(cluster.nodes[0].disk.records[key] == nil, "the outsider keeps no copy")
        #expect(cluster.nodes.dropFirst().allSatisfy { $0.disk.records[key] != nil })
        #expect(cluster.nodes.allSatisfy { $0.core.isQuiescent })
    }

    @Test("a CAS commits on every acceptor, and another node's CAS sees it")
    func casAcrossNodes() {
        var cluster = TestCluster(size: 3, settings: settings)
        let key = Array("leader".utf8)
        #expect(cluster.cas(at: 0, client: 1, key: key, .compareAndSet(expected: nil, new: [1])) == .success(.applied))
        for node in cluster.nodes {
            #expect(node.disk.paxos[key]?.committed.value == [1], "\(node.core.id)")
        }
        let second = cluster.cas(at: 1, client: 2, key: key, .compareAndSet(expected: nil, new: [2]))
        #expect(second == .success(.failed(current: [1])))
        #expect(cluster.nodes.allSatisfy { $0.core.isQuiescent })
    }
}
