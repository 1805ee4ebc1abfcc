import Testing
@testable import CairnCore

/// Hand-worked histories in the manner of the paper's examples (Preguiça et al. 2012, §3 and
/// §5) and the riak_kv dvvset documentation: clients, replicas, contexts, and what survives.
@Suite struct DVVSetTableTests {
    typealias F = DVVFixture

    @Test func concurrentBlindWritesBecomeSiblingsAndAReadContextResolvesThem() {
        var atA = F.Object()
        let first = atA.update(with: CausalContext(), value: F.v("v1"), by: F.a)
        let second = atA.update(with: CausalContext(), value: F.v("v2"), by: F.a)
        #expect(first == Dot(actor: F.a, counter: 1))
        #expect(second == Dot(actor: F.a, counter: 2))
        #expect(F.strings(atA) == ["v1", "v2"])
        #expect(atA.size == 2)
        #expect(atA.join() == F.context([F.a: 2]))

        let read = atA.join()
        atA.update(with: read, value: F.v("v3"), by: F.a)
        #expect(F.strings(atA) == ["v3"])
        #expect(atA.siblings.map(\.dot) == [Dot(actor: F.a, counter: 3)])
    }

    /// The case version vectors with server ids get wrong (paper §3, "lost updates"): two
    /// clients read the same version and write through the same replica. A plain version
    /// vector would give the second write {a: 3}, dominating the first; the dot keeps them
    /// concurrent.
    @Test func twoClientsWithTheSameContextThroughOneReplicaKeepBothWrites() {
        var atA = F.Object.new(F.v("v1"), by: F.a)
        let shared = atA.join()
        atA.update(with: shared, value: F.v("v2"), by: F.a)
        atA.update(with: shared, value: F.v("v3"), by: F.a)
        #expect(F.strings(atA) == ["v2", "v3"])
        #expect(atA.join() == F.context([F.a: 3]))
    }

    @Test func staleContextDropsOnlyWhatItCoversAndKeepsNewerSiblings() {
        var atA = F.Object.new(F.v("v1"), by: F.a)
        let stale = atA.join()  // {a: 1}
        atA.update(with: CausalContext(), value: F.v("v2"), by: F.a)  // blind: sibling of v1
        atA.update(with: stale, value: F.v("v3"), by: F.a)
        #expect(F.strings(atA) == ["v2", "v3"])
    }

    @Test func writesAtTwoReplicasMergeAsSiblingsThenAResolvedWriteSupersedesBoth() {
        let atA = F.Object.new(F.v("x"), by: F.a)
        var atB = F.Object.new(F.v("y"), by: F.b)
        atB.sync(with: atA)
        #expect(F.strings(atB) == ["x", "y"])
        #expect(atB.join() == F.context([F.a: 1, F.b: 1]))

        atB.update(with: atB.join(), value: F.v("z"), by: F.b)
        #expect(F.strings(atB) == ["z"])
        // A's stale copy comes back (read repair, anti-entropy): it adds nothing.
        let merged = F.Object.sync(atA, atB)
        #expect(merged == atB)
        #expect(atA.less(than: atB))
        #expect(atB.dominates(atA))
        #expect(!atB.less(than: atA))
    }

    /// The client read a write this replica has not received yet; when it arrives it is
    /// already superseded.
    @Test func contextAheadOfTheCoordinatorSupersedesWritesThatArriveLater() {
        let atA = F.Object.new(F.v("from-a"), by: F.a)
        var atB = F.Object()
        atB.update(with: atA.join(), value: F.v("from-b"), by: F.b)
        #expect(atB.join() == F.context([F.a: 1, F.b: 1]))
        #expect(F.strings(atB) == ["from-b"])
        atB.sync(with: atA)
        #expect(F.strings(atB) == ["from-b"])
    }

    @Test func concurrentObjectsAreNeitherLessNorDominating() {
        let atA = F.Object.new(F.v("x"), by: F.a)
        let atB = F.Object.new(F.v("y"), by: F.b)
        #expect(!atA.less(than: atB) && !atB.less(than: atA))
        #expect(!atA.dominates(atB) && !atB.dominates(atA))
        #expect(atA.join().compare(atB.join()) == .concurrent)
        #expect(atA.descends(atA) && !atA.less(than: atA))
        #expect(F.Object().less(than: atA))
    }

    @Test func deleteIsATombstoneSiblingThatSupersedesOnlyWhatItsContextCovers() {
        var object = F.Object.new(F.v("v1"), by: F.a)
        let read = object.join()
        object.update(with: CausalContext(), value: F.v("v2"), by: F.b)  // concurrent put elsewhere
        object.delete(with: read, by: F.a)
        #expect(F.strings(object) == ["v2"])
        #expect(object.reads(at: .zero) == [.tombstone, .value(F.v("v2"))])
        #expect(!object.isDeleted(at: .zero))

        object.delete(with: object.join(), by: F.c)
        #expect(object.isDeleted(at: .zero))
        #expect(object.size == 1)
        #expect(object.siblings.map(\.dot) == [Dot(actor: F.c, counter: 1)])
    }

    /// Riak KV679: a node that lost its data and counted from 1 again under the same actor would
    /// reissue dot (a, 1), and a replica holding the old (a, 1) would take the new write for one
    /// it already has. A new epoch makes the dot distinct, and both writes survive.
    @Test func newEpochAfterDataLossKeepsTheNewWriteDistinct() {
        let before = F.Object.new(F.v("old"), by: F.a)
        let replicaB = before  // B received it

        let reused = F.Object.new(F.v("new"), by: F.a)  // same actor, empty disk: counter 1 again
        #expect(F.strings(F.Object.sync(replicaB, reused)).count == 1)  // one of the two is lost

        let renewed = F.Object.new(F.v("new"), by: F.a.nextEpoch())
        #expect(Set(F.strings(F.Object.sync(replicaB, renewed))) == ["old", "new"])
        #expect(F.a.nextEpoch() != F.a && F.a < F.a.nextEpoch())
    }

    /// Replica B superseded a's first two writes (a client resolved them through B) while A
    /// took a third blind write: the merge keeps a3 from A's longer list and drops a1, a2.
    @Test func syncKeepsOnlySiblingsNeitherSideSuperseded() {
        var atA = F.Object()
        atA.update(with: CausalContext(), value: F.v("a1"), by: F.a)
        atA.update(with: CausalContext(), value: F.v("a2"), by: F.a)
        var atB = atA
        atB.update(with: atB.join(), value: F.v("b1"), by: F.b)
        atA.update(with: CausalContext(), value: F.v("a3"), by: F.a)
        #expect(F.strings(atA) == ["a1", "a2", "a3"])
        #expect(F.strings(atB) == ["b1"])

        let merged = F.Object.sync(atA, atB)
        #expect(F.strings(merged) == ["a3", "b1"])
        #expect(merged == F.Object.sync(atB, atA))
        #expect(merged.join() == F.context([F.a: 3, F.b: 1]))
        #expect(merged.siblings.map(\.dot) == [Dot(actor: F.a, counter: 3), Dot(actor: F.b, counter: 1)])
    }

    @Test func contextOperations() {
        let small = F.context([F.a: 1])
        let big = F.context([F.a: 2, F.b: 1])
        #expect(big.dominates(small) && !small.dominates(big))
        #expect(small.compare(big) == .before && big.compare(small) == .after)
        #expect(big.compare(big) == .equal)
        #expect(big.covers(Dot(actor: F.b, counter: 1)) && !big.covers(Dot(actor: F.b, counter: 2)))
        #expect(!big.covers(Dot(actor: F.c, counter: 1)))
        #expect(small.merged(with: F.context([F.c: 4])) == F.context([F.a: 1, F.c: 4]))
        #expect(F.context([F.a: 0]).isEmpty)
        #expect(big[F.c] == 0 && big[F.a] == 2)
    }
}

/// The per-key mint epochs (KV679): fresh actors, leases persisted before use, restarts that
/// never hand out an epoch twice.
@Suite struct MintEpochsTests {
    let node = NodeID(high: 7, low: 7)

    @Test func leasesArePersistedBeforeTheirFirstEpoch() {
        var epochs = MintEpochs(node: node, persistedLease: 0, leaseSize: 3)
        let first = epochs.allocate()
        #expect(first.actor == ReplicaActor(node: node, epoch: 0) && first.persistLease == 3)
        #expect(epochs.allocate().persistLease == nil)
        #expect(epochs.allocate().persistLease == nil)
        let fourth = epochs.allocate()
        #expect(fourth.actor.epoch == 3 && fourth.persistLease == 6)
    }

    /// After an unclean stop, a recorded epoch from before it is not minted under again (the
    /// write minted under it last may have reached the other replicas but not this disk); a
    /// clean stop keeps it, and so does starting the allocator again after a failed lease.
    @Test func anUncleanStopDistrustsTheEpochsRecordedBeforeIt() {
        var before = MintEpochs(node: node, persistedLease: 0, leaseSize: 10)
        let recorded = before.allocate().actor.epoch
        let clean = MintEpochs(node: node, persistedLease: 10, leaseSize: 10)
        #expect(clean.usable(recorded) == recorded)
        var unclean = MintEpochs(node: node, persistedLease: 10, leaseSize: 10, afterUncleanStop: true)
        #expect(unclean.usable(recorded) == nil)
        #expect(unclean.usable(nil) == nil)
        let fresh = unclean.allocate().actor.epoch
        #expect(fresh == 10 && unclean.usable(fresh) == fresh)
        let again = unclean.restarted(persistedLease: 20)
        #expect(again.usable(recorded) == nil && again.usable(fresh) == fresh && again.trustedFrom == 10)
    }

    @Test func aRestartSkipsTheRestOfTheLease() {
        var before = MintEpochs(node: node, persistedLease: 0, leaseSize: 100)
        var used: Set<UInt64> = []
        var lease: UInt64 = 0
        for _ in 0..<5 {
            let (actor, persist) = before.allocate()
            used.insert(actor.epoch)
            if let persist { lease = persist }
        }
        var after = MintEpochs(node: node, persistedLease: lease, leaseSize: 100)
        let (actor, persist) = after.allocate()
        #expect(!used.contains(actor.epoch) && actor.epoch == 100 && persist == 200)
    }

    /// Two objects minted under fresh epochs never share a dot, so a copy dropped and written
    /// again is concurrent with, not mistaken for, the writes other replicas hold.
    @Test func aFreshEpochKeepsAWriteAfterADropFromBeingSwallowed() {
        var epochs = MintEpochs(node: node, persistedLease: 0)
        var elsewhere = DVVSet<String>()
        elsewhere.update(with: CausalContext(), value: "first", by: epochs.allocate().actor)
        // This node dropped its copy; it writes the key again from nothing.
        var again = DVVSet<String>()
        again.update(with: CausalContext(), value: "second", by: epochs.allocate().actor)
        #expect(Set(DVVSet.sync(elsewhere, again).values(at: .zero)) == ["first", "second"])
        // The same write under the old actor would be swallowed: that is what the epoch prevents.
        var reused = DVVSet<String>()
        reused.update(with: CausalContext(), value: "second", by: ReplicaActor(node: node, epoch: 0))
        #expect(DVVSet.sync(elsewhere, reused).values(at: .zero) == ["first"])
    }
}
