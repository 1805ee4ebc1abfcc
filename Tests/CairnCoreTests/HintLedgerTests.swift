import Testing
@testable import CairnCore

/// The hint ledger against a model: every hint ends delivered-then-deleted, or dropped with an
/// anti-entropy request for its partition and owner; never silently lost, never over bounds.
@Suite struct HintLedgerTests {
    let owners = (1...4).map { NodeID(high: 0, low: UInt64($0)) }

    @Test func deliversInBatchesAndDeletesOnlyAfterTheOwnerStoredThem() {
        var ledger = HintLedger(limits: .init(maxBytes: 1 << 20, maxAgeMilliseconds: 60_000, batchSize: 2))
        var persisted: [UInt64] = []
        for i in 0..<3 {
            let effects = ledger.store(owner: owners[0], partition: i, keyHash: KeyHash(UInt64(i)), bytes: 10, now: 1_000)
            guard case .persist(let hint) = effects.first else { Issue.record("no persist"); return }
            persisted.append(hint.id)
        }
        let first = ledger.ownerReachable(owners[0], now: 2_000)
        guard case .deliver(_, let batch) = first.last else { Issue.record("no delivery"); return }
        #expect(batch.map(\.id) == Array(persisted.prefix(2)))
        #expect(ledger.ownerReachable(owners[0], now: 2_001).isEmpty, "one batch in flight per owner")
        ledger.deliveryFailed(owner: owners[0])
        let retry = ledger.ownerReachable(owners[0], now: 2_002)
        #expect(retry == [.deliver(owner: owners[0], hints: batch)], "a failed batch is retried first")
        let done = ledger.delivered(owner: owners[0], now: 2_003)
        #expect(done.prefix(2) == [.delete(id: persisted[0]), .delete(id: persisted[1])])
        guard case .deliver(_, let rest) = done.last else { Issue.record("next batch not sent"); return }
        #expect(rest.map(\.id) == [persisted[2]])
        _ = ledger.delivered(owner: owners[0], now: 2_004)
        #expect(ledger.count == 0 && ledger.totalBytes == 0 && ledger.deliveredCount == 3)
    }

    @Test func droppedHintsAskForAntiEntropy() {
        var ledger = HintLedger(limits: .init(maxBytes: 100, maxAgeMilliseconds: 1_000, batchSize: 8))
        _ = ledger.store(owner: owners[0], partition: 7, keyHash: KeyHash(1), bytes: 60, now: 0)
        let over = ledger.store(owner: owners[1], partition: 9, keyHash: KeyHash(2), bytes: 60, now: 10)
        #expect(over.contains(.requestAntiEntropy(partition: 7, owner: owners[0], reason: .overBytes)))
        #expect(ledger.totalBytes == 60)
        let aged = ledger.tick(now: 1_010)
        #expect(aged.contains(.requestAntiEntropy(partition: 9, owner: owners[1], reason: .tooOld)))
        #expect(ledger.count == 0 && ledger.droppedCount == 2)
    }

    @Test(arguments: 0..<50)
    func noHintIsSilentlyLostAndBoundsHold(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        let limits = HintLedger.Limits(maxBytes: 2_000, maxAgeMilliseconds: 5_000, batchSize: 1 + rng.below(5))
        var ledger = HintLedger(limits: limits)
        var now: WallClockTime = 0
        var live: [UInt64: HintLedger.Hint] = [:]        // model: persisted, not yet deleted
        var settled: Set<UInt64> = []                   // delivered or dropped-with-AE
        var acked: Set<UInt64> = []                     // in a batch the owner stored
        var inFlight: [NodeID: [HintLedger.Hint]] = [:]
        var repairs: [(Int, NodeID)] = []
        func apply(_ effects: [HintLedger.Effect]) {
            for effect in effects {
                switch effect {
                case .persist(let hint):
                    #expect(live[hint.id] == nil)
                    live[hint.id] = hint
                case .deliver(let owner, let hints):
                    #expect(inFlight[owner] == nil, "two batches in flight to one owner")
                    #expect(hints.allSatisfy { $0.owner == owner && live[$0.id] != nil })
                    inFlight[owner] = hints
                case .delete(let id):
                    #expect(live[id] != nil, "deleted a hint that was not persisted")
                    live[id] = nil
                    settled.insert(id)
                case .requestAntiEntropy(let partition, let owner, _):
                    repairs.append((partition, owner))
                }
            }
        }
        for _ in 0..<600 {
            now = now + UInt64(rng.below(200))
            let owner = owners[rng.below(owners.count)]
            switch rng.below(10) {
            case 0..<5:
                apply(ledger.store(owner: owner, partition: rng.below(64), keyHash: KeyHash(rng.next()), bytes: rng.below(300), now: now))
            case 5..<7:
                apply(ledger.ownerReachable(owner, now: now))
            case 7:
                if let batch = inFlight.removeValue(forKey: owner) {
                    acked.formUnion(batch.map(\.id))
                    apply(ledger.delivered(owner: owner, now: now))
                }
            case 8:
                if inFlight.removeValue(forKey: owner) != nil { ledger.deliveryFailed(owner: owner) }
            default:
                apply(ledger.tick(now: now))
            }
            #expect(ledger.totalBytes == live.values.reduce(0) { $0 + $1.bytes })
            let inFlightBytes = inFlight.values.flatMap { $0 }.reduce(0) { $0 + $1.bytes }
            #expect(ledger.totalBytes - inFlightBytes <= limits.maxBytes, "pending hints over the byte bound")
        }
        // Every hint that left the ledger was either acknowledged by its owner or repaired by AE.
        let dropped = settled.subtracting(acked)
        #expect(dropped.count == ledger.droppedCount)
        #expect(repairs.count == ledger.droppedCount, "each dropped hint asks for anti-entropy")
        #expect(live.count == ledger.count, "the model and the ledger hold the same hints")
    }
}
