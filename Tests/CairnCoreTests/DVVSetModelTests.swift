import Testing
@testable import CairnCore

/// Property tests of `DVVSet` against a deliberately simple model of causality.
///
/// The model keeps, for every write, the set of writes its context had seen, and for every
/// replica the set of writes it knows of. A replica's siblings are the writes it knows of that
/// no write it knows of has seen: the maximal elements. No counters, no floors, no merging of
/// lists — so agreement with `DVVSet` checks the compact representation (Preguiça et al. 2012,
/// §6) against the definition it compresses (§4–5), in the manner of riak_core's `vclock_qc`.
@Suite struct DVVSetModelTests {
    typealias F = DVVFixture

    struct Write {
        var sibling: Sibling<[UInt8]>
        /// Every write the client's context had seen.
        var seen: Set<Dot>
    }

    /// The model and the implementation side by side, driven by one seeded generator.
    struct History {
        var random: SplitMix64
        let actors: [ReplicaActor]
        var objects: [F.Object]
        var known: [Set<Dot>]
        var writes: [Dot: Write] = [:]
        /// Contexts clients have read, with the writes each covers; the first is the empty one.
        var reads: [(context: CausalContext, seen: Set<Dot>)] = [(CausalContext(), [])]
        /// Every state any replica has been in, for the algebraic properties.
        var states: [F.Object] = [F.Object()]

        init(seed: UInt64, actorCount: Int) {
            // Random nodes and epochs, so the actor order differs from replica order.
            var generator = SplitMix64.mixed(seed)
            actors = (0..<actorCount).map { _ in
                ReplicaActor(
                    node: NodeID(high: UInt64.random(in: 0...3, using: &generator), low: generator.next()),
                    epoch: UInt64.random(in: 0...2, using: &generator))
            }
            random = generator
            objects = Array(repeating: F.Object(), count: actorCount)
            known = Array(repeating: [], count: actorCount)
        }

        /// The model's siblings of a replica: known writes no known write has seen.
        func modelSiblings(_ replica: Int) -> Set<DottedSibling<[UInt8]>> {
            var superseded: Set<Dot> = []
            for dot in known[replica] { superseded.formUnion(writes[dot]?.seen ?? []) }
            return Set(known[replica].subtracting(superseded).map { DottedSibling(dot: $0, sibling: writes[$0]!.sibling) })
        }

        mutating func step() {
            let replica = Int.random(in: 0..<actors.count, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<3:  // a client reads
                reads.append((objects[replica].join(), known[replica]))
            case 3..<7:  // a client writes through `replica`, with a context it read (maybe stale)
                let pick = Bool.random(using: &random) ? reads.count - 1 : Int.random(in: 0..<reads.count, using: &random)
                let (context, seen) = reads[pick]
                let sibling = randomSibling()
                let dot = objects[replica].update(with: context, sibling, by: actors[replica])
                let ownCount = writes.keys.filter { $0.actor == actors[replica] }.count
                #expect(dot == Dot(actor: actors[replica], counter: UInt64(ownCount + 1)), "dots number each actor's writes without gaps")
                #expect(writes[dot] == nil, "dot \(dot) minted twice")
                writes[dot] = Write(sibling: sibling, seen: seen)
                known[replica].formUnion(seen)
                known[replica].insert(dot)
            default:  // replication: one replica's object merged into another's
                let source = Int.random(in: 0..<actors.count, using: &random)
                objects[replica] = Bool.random(using: &random)
                    ? F.Object.sync(objects[replica], objects[source]) : F.Object.sync(objects[source], objects[replica])
                known[replica].formUnion(known[source])
            }
            states.append(objects[replica])
        }

        mutating func randomSibling() -> Sibling<[UInt8]> {
            let expiry: WallClockTime? = Bool.random(using: &random) ? nil : WallClockTime(millisecondsSince1970: UInt64.random(in: 1...1_000, using: &random))
            if Int.random(in: 0..<5, using: &random) == 0 { return Sibling(.tombstone, expiry: expiry) }
            return .value(random.bytes(Int.random(in: 0...6, using: &random)), expiry: expiry)
        }

        /// The implementation agrees with the model on every replica.
        func checkAgainstModel(_ note: String) {
            for replica in objects.indices {
                let object = objects[replica]
                #expect(Set(object.siblings) == modelSiblings(replica), "\(note): siblings of replica \(replica)")
                #expect(object.size == object.siblings.count)
                // The context covers exactly the writes the replica knows of.
                for dot in writes.keys {
                    #expect(object.join().covers(dot) == known[replica].contains(dot), "\(note): join covers \(dot)")
                }
            }
        }
    }

    @Test(arguments: 0..<200)
    func siblingsMatchTheModelThroughRandomHistories(seed: UInt64) {
        var history = History(seed: seed, actorCount: 2 + Int(seed % 3))
        for index in 0..<60 {
            history.step()
            if index % 5 == 4 { history.checkAgainstModel("seed \(seed) step \(index)") }
        }
        history.checkAgainstModel("seed \(seed) end")
    }

    @Test(arguments: 0..<100)
    func syncIsCommutativeAssociativeAndIdempotent(seed: UInt64) {
        var history = History(seed: seed, actorCount: 3)
        for _ in 0..<50 { history.step() }
        var random = SplitMix64.mixed(seed ^ 0xDEAD_BEEF)
        for _ in 0..<60 {
            let x = history.states.randomElement(using: &random)!
            let y = history.states.randomElement(using: &random)!
            let z = history.states.randomElement(using: &random)!
            #expect(F.Object.sync(x, y) == F.Object.sync(y, x), "seed \(seed): commutative")
            #expect(
                F.Object.sync(F.Object.sync(x, y), z) == F.Object.sync(x, F.Object.sync(y, z)), "seed \(seed): associative")
            #expect(F.Object.sync(x, x) == x, "seed \(seed): idempotent")
            #expect(F.Object.sync(x, F.Object()) == x, "seed \(seed): empty is the identity")
            let merged = F.Object.sync(x, y)
            #expect(merged.descends(x) && merged.descends(y), "seed \(seed): the merge has seen both")
            #expect(F.Object.sync(merged, x) == merged, "seed \(seed): merging an older state adds nothing")
        }
    }

    /// After every replica has heard from every other, in any order, all replicas hold the same
    /// object, and every write ever acknowledged is in it as a sibling or was seen by a sibling.
    @Test(arguments: 0..<100)
    func everyAcknowledgedWriteSurvivesOrWasSeenByALaterOne(seed: UInt64) {
        var history = History(seed: seed, actorCount: 3 + Int(seed % 2))
        for _ in 0..<70 { history.step() }

        var random = SplitMix64.mixed(seed &+ 77)
        var orders: [F.Object] = []
        for _ in 0..<4 {
            orders.append(history.objects.shuffled(using: &random).reduce(F.Object()) { F.Object.sync($0, $1) })
        }
        let converged = orders[0]
        #expect(orders.allSatisfy { $0 == converged }, "seed \(seed): sync order changed the result")

        let all = Set(history.known.indices.flatMap { history.known[$0] })
        var model = history
        model.known = [all]
        #expect(Set(converged.siblings) == model.modelSiblings(0), "seed \(seed): converged siblings")

        let survivors = Set(converged.siblings.map(\.dot))
        for (dot, _) in history.writes {
            #expect(converged.join().covers(dot), "seed \(seed): \(dot) unknown after convergence")
            let kept = survivors.contains(dot)
            let supersededBySurvivor = survivors.contains { history.writes[$0]!.seen.contains(dot) }
            #expect(kept != supersededBySurvivor, "seed \(seed): \(dot) lost (kept \(kept))")
            // Superseded only by a write whose client had seen it.
            if !kept {
                #expect(history.writes.values.contains { $0.seen.contains(dot) }, "seed \(seed): \(dot)")
            }
        }
    }
}
