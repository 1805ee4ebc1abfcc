import CairnCore
import CairnNodeCore
import Testing

/// Mint epochs come from leases the executor persists before any dot minted under them is
/// stored (`NodeCommand` duty 2); a lease that could not be stored is asked for again.
@Suite("Mint leases")
struct MintLeaseTests {
    let a: [UInt8] = Array("a".utf8)
    let b: [UInt8] = Array("b".utf8)

    /// Writes `key` and completes its coordination read: the commands that mint and store it.
    func coordinate(_ node: inout CoreHarness, client: UInt64, key: [UInt8]) throws -> [NodeCommand] {
        let started = node.write(client, key: key, value: [UInt8(client)])
        return node.complete(try #require(started.operation("read")))
    }

    @Test("the first coordination persists a lease before its storage write; the next key mints under it")
    func firstCoordinationAsksForALease() throws {
        var node = CoreHarness.single()
        node.start()

        let first = try coordinate(&node, client: 1, key: a)
        #expect(first.kinds == ["persistMintLease", "storage:write"])
        #expect(first.leases.count == 1)
        #expect(node.disk.mintLease == first.leases.first)
        node.completeAll()

        let second = try coordinate(&node, client: 2, key: b)
        #expect(second.kinds == ["storage:write"], "one lease covers many epochs")
        node.completeAll()

        let epochA = try #require(node.disk.records[a]?.mintEpoch)
        let epochB = try #require(node.disk.records[b]?.mintEpoch)
        #expect(epochA != epochB, "each key mints under its own epoch")
        #expect(max(epochA, epochB) < node.disk.mintLease, "epochs stay below the persisted lease")
    }

    @Test("after onMintLeaseFailed the next coordination asks for the lease again")
    func failedLeaseIsAskedForAgain() throws {
        var node = CoreHarness.single()
        node.persistsLeases = false
        node.start()

        let first = try coordinate(&node, client: 1, key: a)
        #expect(first.kinds == ["persistMintLease", "storage:write"])
        // The executor could not store the lease: it fails the write that followed it and
        // tells the core.
        node.core.onMintLeaseFailed()
        let failed = node.complete(try #require(first.operation("write")), with: .failed(StorageFailure("lease not stored")))
        #expect(failed.writeReplies.map(\.client) == [1])
        #expect(failed.writeReplies.allSatisfy { if case .failed = $0.result { true } else { false } })
        #expect(node.disk.records[a] == nil)
        #expect(node.disk.mintLease == 0)

        node.persistsLeases = true
        let retried = try coordinate(&node, client: 2, key: b)
        #expect(retried.kinds == ["persistMintLease", "storage:write"])
        #expect(retried.leases == first.leases)
        let stored = node.completeAll()
        #expect(stored.writeReplies.map(\.client) == [2])
        #expect(node.disk.mintLease == first.leases.first)
    }

    @Test("a writer whose counter for a key runs out writes on under a fresh epoch instead of failing")
    func anExhaustedCounterTakesAFreshEpoch() throws {
        var node = CoreHarness.single()
        node.start()
        _ = try coordinate(&node, client: 1, key: a)
        node.completeAll()
        let record = try #require(node.disk.records[a])
        let first = try #require(record.mintEpoch)
        let writer = ReplicaActor(node: node.core.id, epoch: first)
        // A context that says this writer has minted its last counter for the key (only a
        // forged context could say so; the seal refuses those, this is the core's own defence).
        let spent = CausalContext([writer: Dot.maxCounter])
        let started = node.write(2, key: a, value: [2], supersedes: .context(spent))
        var commands = node.complete(try #require(started.operation("read")))
        commands += node.completeAll()
        #expect(commands.writeReplies.map(\.client) == [2])
        #expect(commands.writeReplies.allSatisfy { if case .failed = $0.result { false } else { true } }, "\(commands.writeReplies)")
        let after = try #require(node.disk.records[a])
        let fresh = try #require(after.mintEpoch)
        #expect(fresh != first)
        #expect(after.object.values(at: .zero) == [[2]])
        // The next write mints under the fresh epoch too.
        let third = node.write(3, key: a, value: [3], supersedes: .current)
        var more = node.complete(try #require(third.operation("read")))
        more += node.completeAll()
        #expect(more.writeReplies.map(\.client) == [3])
        #expect(node.disk.records[a]?.mintEpoch == fresh)
    }
}
