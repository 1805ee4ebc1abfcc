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
            #expect(node.disk.records[key]?.object.values(at: node.wallNow) == [[4, 2]], "\(node.core.id)")
        }
        #expect(cluster.read(at: 2, client: 2, key: key)?.values == [[4, 2]])
        #expect(cluster.nodes.allSatisfy { $0.core.isQuiescent })
    }

    @Test("plain writes through different nodes leave the last value; blind ones pile up as siblings; a plain delete deletes")
    func plainWritesSupersede() {
        var cluster = TestCluster(size: 4, settings: settings)
        let key = Array("plain".utf8)
        for (client, value) in (1...5).map({ (UInt64($0), [UInt8($0)]) }) {
            guard case .stored(let context)? = cluster.write(at: Int(client) % 4, client: client, key: key, value: value,
                                                                supersedes: .current) else {
                Issue.record("plain write \(client) was not stored")
                return
            }
            #expect(!context.isEmpty, "a write answers with the new object's context")
            #expect(cluster.read(at: Int(client + 1) % 4, client: 100 + client, key: key)?.values == [value])
        }
        _ = cluster.write(at: 0, client: 10, key: key, value: [10], supersedes: .nothing)
        _ = cluster.write(at: 1, client: 11, key: key, value: [11], supersedes: .nothing)
        #expect(Set(cluster.read(at: 2, client: 12, key: key)?.values ?? []) == [[5], [10], [11]])

        guard case .stored? = cluster.delete(at: 3, client: 13, key: key) else {
            Issue.record("the plain delete was not stored")
            return
        }
        #expect(cluster.read(at: 1, client: 14, key: key)?.values == [])
        func storageWrites(_ cluster: TestCluster) -> Int {
            cluster.nodes.flatMap { $0.log }.count {
                if case .storage(_, .write(let written, _, _, _)) = $0 { written == key } else { false }
            }
        }
        let coordinations = storageWrites(cluster)
        // A plain delete of a key that holds only tombstones writes nothing and still succeeds.
        guard case .stored? = cluster.delete(at: 0, client: 16, key: key) else {
            Issue.record("a second plain delete failed")
            return
        }
        let after = storageWrites(cluster)
        #expect(after == coordinations, "deleting a deleted key stores nothing")
        #expect(cluster.nodes.allSatisfy { $0.core.isQuiescent })
    }

    @Test("conditional writes: If-Match writes only with a current context, If-Match * only over a value, If-None-Match * only over none")
    func conditionalWrites() {
        var cluster = TestCluster(size: 3, settings: settings)
        let key = Array("account".utf8)
        // If-None-Match: * creates the absent key, and is refused once the key holds a value.
        guard case .stored(let created)? = cluster.write(at: 0, client: 1, key: key, value: [1], supersedes: .currentIfAbsent) else {
            Issue.record("a create-only write of an absent key was not stored")
            return
        }
        #expect(cluster.write(at: 1, client: 2, key: key, value: [2], supersedes: .currentIfAbsent) == .preconditionFailed(created))
        #expect(cluster.read(at: 2, client: 3, key: key)?.values == [[1]])

        // If-Match with the context the create returned: still current, so it writes over it.
        guard case .stored(let updated)? = cluster.write(at: 2, client: 4, key: key, value: [4], supersedes: .contextIfCurrent(created))
        else {
            Issue.record("a write whose If-Match context is current was not stored")
            return
        }
        #expect(updated.dominates(created))
        // The same context again is stale: refused with what the key holds now, nothing written.
        #expect(cluster.write(at: 0, client: 5, key: key, value: [5], supersedes: .contextIfCurrent(created)) == .preconditionFailed(updated))
        #expect(cluster.read(at: 1, client: 6, key: key)?.values == [[4]])
        // A blind write beside it makes the context current no longer, though its value is still there.
        _ = cluster.write(at: 1, client: 7, key: key, value: [7], supersedes: .nothing)
        guard case .preconditionFailed(let both)? = cluster.write(at: 2, client: 8, key: key, value: [8], supersedes: .contextIfCurrent(updated))
        else {
            Issue.record("an If-Match write over an unseen sibling was not refused")
            return
        }
        #expect(Set(cluster.read(at: 0, client: 9, key: key)?.values ?? []) == [[4], [7]])

        // If-Match: * replaces what is there (both siblings); a DELETE with the current context deletes.
        guard case .stored(let replaced)? = cluster.write(at: 0, client: 10, key: key, value: [10], supersedes: .currentIfLive) else {
            Issue.record("an If-Match: * write over a value was not stored")
            return
        }
        #expect(replaced.dominates(both))
        #expect(cluster.read(at: 1, client: 11, key: key)?.values == [[10]])
        guard case .stored? = cluster.delete(at: 2, client: 12, key: key, supersedes: .contextIfCurrent(replaced)) else {
            Issue.record("a DELETE whose If-Match context is current was not stored")
            return
        }
        #expect(cluster.read(at: 0, client: 13, key: key)?.values == [])
        // Deleted: If-Match: * is refused, If-None-Match: * creates again over the tombstone.
        guard case .preconditionFailed(let deleted)? = cluster.write(at: 0, client: 14, key: key, value: [14], supersedes: .currentIfLive),
              !deleted.isEmpty
        else {
            Issue.record("an If-Match: * write of a deleted key was not refused with the tombstone's context")
            return
        }
        guard case .stored(let recreated)? = cluster.write(at: 1, client: 15, key: key, value: [15], supersedes: .currentIfAbsent) else {
            Issue.record("a create-only write of a deleted key was not stored")
            return
        }
        #expect(recreated.dominates(deleted))
        #expect(cluster.read(at: 2, client: 16, key: key)?.values == [[15]])

        // A key no replica has heard of matches no context.
        let absent = Array("never".utf8)
        #expect(cluster.write(at: 0, client: 17, key: absent, value: [17], supersedes: .contextIfCurrent(recreated)) == .preconditionFailed(CausalContext()))
        #expect(cluster.delete(at: 0, client: 18, key: absent, supersedes: .currentIfLive) == .preconditionFailed(CausalContext()))
        #expect(cluster.read(at: 1, client: 19, key: absent) == .notFound)
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

    @Test("CAS writes the key's object: a GET reads it, writes outside CAS are refused, a forced CAS replaces siblings")
    func casOnTheObject() {
        var cluster = TestCluster(size: 3, settings: settings)
        let key = Array("register".utf8)
        // A key first written by a blind PUT, then given a sibling: CAS reports the siblings.
        _ = cluster.write(at: 0, client: 1, key: key, value: [1])
        _ = cluster.write(at: 1, client: 2, key: key, value: [2])
        // (Each CAS goes through a node with a higher id than the last at the same instant, so
        // its ballot wins without a backoff, whose timer this network does not fire.)
        #expect(cluster.cas(at: 0, client: 3, key: key, .compareAndSet(expected: [1], new: [3])) == .success(.siblings([[1], [2]])))
        #expect(cluster.cas(at: 1, client: 4, key: key, .write(new: [3])) == .success(.applied))
        #expect(cluster.read(at: 0, client: 5, key: key)?.values == [[3]], "a GET sees what CAS wrote, siblings superseded")
        #expect(cluster.cas(at: 2, client: 6, key: key, .compareAndSet(expected: [3], new: [4])) == .success(.applied))
        #expect(cluster.cas(at: 2, client: 7, key: key, .read) == .success(.read(current: [4])))
        for node in cluster.nodes {
            #expect(node.disk.records[key]?.object.values(at: node.wallNow) == [[4]], "\(node.core.id)")
        }
        for (client, supersedes) in [(UInt64(8), Supersedes.current), (9, .nothing)] {
            guard case .failed(.quorum(let failure))? = cluster.write(at: 2, client: client, key: key, value: [9], supersedes: supersedes),
                  case .rejected(let error) = failure.reason else {
                Issue.record("a \(supersedes) write of a CAS key was not refused")
                continue
            }
            #expect(error.code == .casManaged)
        }
        #expect(cluster.read(at: 1, client: 10, key: key)?.values == [[4]])
        #expect(cluster.nodes.allSatisfy { $0.core.isQuiescent })
    }
}

/// Reaping dead keys across three cores.
@Suite("Reaping")
struct ReapingTests {
    var settings: NodeCore.Settings {
        var settings = NodeCore.Settings(replicas: 3, readQuorum: 2, writeQuorum: 2)
        settings.reapGraceMilliseconds = 1_000
        return settings
    }

    /// One page of one partition per maintenance tick: a round over the 64 partitions.
    static func reapRound(_ cluster: inout TestCluster, node: Int) {
        for _ in 0..<65 {
            _ = cluster.nodes[node].fire(.maintenance)
            cluster.run()
        }
    }

    @Test("a deleted key is removed from every copy in one confirmed round, and not while a member holds an older copy")
    func deadKeysAreReapedOnlyWhenEveryCopyHasSeenTheDelete() {
        var cluster = TestCluster(size: 3, settings: settings)
        let key = Array("gone".utf8)
        let stale = Array("stale".utf8)
        for name in [key, stale] {
            _ = cluster.write(at: 0, client: 1, key: name, value: [1], supersedes: .current)
        }
        let old = cluster.nodes[2].disk.records[stale]!
        for (client, name) in [(UInt64(2), key), (3, stale)] {
            guard case .stored? = cluster.delete(at: 1, client: client, key: name) else {
                Issue.record("the delete of \(name) was not stored")
                return
            }
        }
        // Node 2 lost the delete of `stale`: it still holds the value the delete superseded.
        cluster.nodes[2].disk.records[stale] = old

        // Within the grace period nothing is proposed.
        Self.reapRound(&cluster, node: 0)
        #expect(cluster.nodes[0].disk.records[key] != nil)

        // Node 0's round alone removes every copy: the others reap on its confirmed word.
        for index in cluster.nodes.indices { cluster.nodes[index].now += 2_000 }
        Self.reapRound(&cluster, node: 0)
        for node in cluster.nodes {
            #expect(node.disk.records[key] == nil, "\(node.core.id) still holds the dead key")
        }
        for index in cluster.nodes.indices { Self.reapRound(&cluster, node: index) }
        #expect(cluster.nodes[0].disk.records[stale] != nil && cluster.nodes[1].disk.records[stale] != nil,
                "no copy of a key is reaped while a member holds an older one")
        #expect(cluster.nodes.allSatisfy { $0.core.isQuiescent })
    }

    @Test("the grace period runs from when the reaper first saw the key dead, not from the delete's wall-clock stamp")
    func graceRunsFromTheReapersOwnSighting() {
        var cluster = TestCluster(size: 3, settings: settings)
        let key = Array("old-delete".utf8)
        _ = cluster.write(at: 0, client: 1, key: key, value: [1], supersedes: .current)
        guard case .stored? = cluster.delete(at: 1, client: 2, key: key) else {
            Issue.record("the delete was not stored")
            return
        }
        // Long past the grace by the deletion stamp (another node's clock could say the same
        // right after the delete), but the reaper has not looked yet.
        for index in cluster.nodes.indices { cluster.nodes[index].now += 1_500 }
        Self.reapRound(&cluster, node: 0)
        #expect(cluster.nodes.allSatisfy { $0.disk.records[key] != nil }, "reaped at the reaper's first sighting")
        for index in cluster.nodes.indices { cluster.nodes[index].now += 1_001 }
        Self.reapRound(&cluster, node: 0)
        #expect(cluster.nodes.allSatisfy { $0.disk.records[key] == nil }, "not reaped a grace period after the first sighting")
    }
}
