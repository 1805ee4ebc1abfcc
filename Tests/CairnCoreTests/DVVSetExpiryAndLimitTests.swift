import Testing
@testable import CairnCore

/// Expiry reads (DESIGN.md §2, "Deletes and expiry") and the client-path sibling cap.
@Suite struct DVVSetExpiryAndLimitTests {
    typealias F = DVVFixture

    @Test(arguments: [
        (expiry: UInt64(0), now: UInt64(0), expired: false),
        (expiry: 0, now: UInt64.max, expired: false),
        (expiry: 1_000, now: 0, expired: false),
        (expiry: 1_000, now: 999, expired: false),
        (expiry: 1_000, now: 1_000, expired: true),
        (expiry: 1_000, now: 1_001, expired: true),
        (expiry: 1_000, now: UInt64.max, expired: true),
    ])
    func expiredSiblingReadsAsTombstoneFromItsExpiryOn(expiry: UInt64, now: UInt64, expired: Bool) {
        let object = F.Object.new(F.v("ttl"), expiry: expiry == 0 ? nil : WallClockTime(millisecondsSince1970: expiry), by: F.a)
        let now = WallClockTime(millisecondsSince1970: now)
        #expect(object.isDeleted(at: now) == expired)
        #expect(object.values(at: now) == (expired ? [] : [F.v("ttl")]))
        #expect(object.reads(at: now) == [expired ? .tombstone : .value(F.v("ttl"))])
        #expect(object.siblings[0].sibling.isTombstone(at: now) == expired)
        // Expiry does not change the stored sibling or the history, only what a read sees.
        #expect(object.size == 1)
        #expect(object.siblings[0].sibling.content == .value(F.v("ttl")))
    }

    @Test func siblingsExpireIndependently() {
        var object = F.Object.new(F.v("short"), expiry: WallClockTime(millisecondsSince1970: 100), by: F.a)
        object.update(with: CausalContext(), value: F.v("long"), expiry: WallClockTime(millisecondsSince1970: 200), by: F.b)
        object.update(with: CausalContext(), value: F.v("forever"), by: F.c)
        #expect(F.strings(object, at: 99) == ["short", "long", "forever"])
        #expect(F.strings(object, at: 100) == ["long", "forever"])
        #expect(F.strings(object, at: 200) == ["forever"])
        #expect(object.reads(at: WallClockTime(millisecondsSince1970: 200)) == [.tombstone, .tombstone, .value(F.v("forever"))])
    }

    /// An expired sibling still takes part in causality: it merges, it is superseded by a context
    /// that covers it, and a replica that did not see it expire cannot bring it back.
    @Test func expiredSiblingStillMergesAndIsSuperseded() {
        let atA = F.Object.new(F.v("ttl"), expiry: WallClockTime(millisecondsSince1970: 50), by: F.a)
        var atB = F.Object()
        atB.sync(with: atA)
        #expect(atB.isDeleted(at: WallClockTime(millisecondsSince1970: 50)))
        #expect(atB.size == 1)
        atB.update(with: atB.join(), value: F.v("fresh"), by: F.b)
        let merged = F.Object.sync(atA, atB)
        #expect(F.strings(merged, at: 10) == ["fresh"])
        #expect(merged.size == 1)
    }

    @Test func capRefusesAClientWriteThatWouldPassItAndLeavesTheObjectUnchanged() throws {
        var object = F.Object()
        try object.update(with: CausalContext(), .value(F.v("1")), by: F.a, siblingLimit: 2)
        try object.update(with: CausalContext(), .value(F.v("2")), by: F.b, siblingLimit: 2)
        let before = object
        #expect {
            try object.update(with: CausalContext(), .value(F.v("3")), by: F.c, siblingLimit: 2)
        } throws: { error in
            (error as? VersionError)?.code == .siblingLimitExceeded && (error as? VersionError)?.limit == 2
        }
        #expect(object == before)

        // A write that resolves the siblings passes: the cap counts what the write leaves.
        let dot = try object.update(with: object.join(), .value(F.v("3")), by: F.c, siblingLimit: 2)
        #expect(dot == Dot(actor: F.c, counter: 1))
        #expect(F.strings(object) == ["3"])
    }

    /// A context naming writers by the thousand (made up by a client) cannot push an object
    /// past what every decoder accepts: a write that would leave more than `maxWritersOnWrite`
    /// writers is refused and the object stays as it was; one that adds no writer passes.
    @Test func writersAreBoundedOnTheWritePath() throws {
        let limit = F.Object.maxWritersOnWrite
        #expect(limit < DVVSetDecodingLimits().maxEntries / 2)
        let madeUp = CausalContext(Dictionary(uniqueKeysWithValues: (0..<UInt64(limit)).map {
            (ReplicaActor(node: NodeID(high: 7, low: $0), epoch: 0), UInt64(1))
        }))
        var object = F.Object()
        try object.update(with: CausalContext(), .value(F.v("1")), by: F.a, siblingLimit: 64)
        let before = object
        #expect {
            try object.update(with: madeUp, .value(F.v("2")), by: F.a, siblingLimit: 64)
        } throws: { ($0 as? VersionError)?.code == .tooLarge }
        #expect(object == before)
        let fits = CausalContext(Dictionary(uniqueKeysWithValues: (0..<UInt64(limit - 2)).map {
            (ReplicaActor(node: NodeID(high: 7, low: $0), epoch: 0), UInt64(1))
        }))
        try object.update(with: fits, .value(F.v("3")), by: F.a, siblingLimit: 64)
        #expect(object.join().entries.count == limit - 1)
        let encoded = object.encode()
        #expect(try F.Object(decoding: encoded) == object)
    }

    /// Replication never refuses: concurrent writes accepted by different coordinators, each
    /// within the cap, merge to more siblings than the cap.
    @Test func syncIsNeverCapped() throws {
        var objects = [F.Object(), F.Object(), F.Object()]
        for (index, actor) in [F.a, F.b, F.c].enumerated() {
            try objects[index].update(with: CausalContext(), .value(F.v("\(index)")), by: actor, siblingLimit: 1)
        }
        let merged = objects.reduce(F.Object()) { F.Object.sync($0, $1) }
        #expect(merged.size == 3)
    }

    @Test func clientPathRefusesToMintPastTheLargestCounter() {
        var object = F.Object()
        let forged = CausalContext(sortedEntries: [Dot(actor: F.a, counter: Dot.maxCounter)])
        #expect {
            try object.update(with: forged, .value(F.v("x")), by: F.a, siblingLimit: 10)
        } throws: { error in
            (error as? VersionError)?.code == .counterExhausted
        }
        #expect(object.isEmpty)
    }

    /// The object budget: blind writes may fill an object up to it, the next is refused and
    /// leaves the object as it was, and a write that resolves the siblings passes.
    @Test func theObjectBudgetRefusesGrowthButNotResolution() throws {
        let value = [UInt8](repeating: 7, count: 300)
        var object = F.Object()
        let budget = 1_200
        for actor in [F.a, F.b, F.c] {
            try object.update(with: CausalContext(), .value(value), by: actor, siblingLimit: 64, maxObjectBytes: budget)
        }
        #expect(object.size == 3)
        let full = object
        #expect {
            try object.update(with: CausalContext(), .value(value), by: F.a, siblingLimit: 64, maxObjectBytes: budget)
        } throws: { ($0 as? VersionError)?.code == .tooLarge && ($0 as? VersionError)?.limit == budget }
        #expect(object == full)
        // Covering every sibling: one value left, far under the budget.
        try object.update(with: object.join(), .value(value), by: F.a, siblingLimit: 64, maxObjectBytes: budget)
        #expect(object.size == 1)
        // An object already over the budget (a merge of replicas) may still shrink.
        var merged = full
        for actor in [F.actor(0xD), F.actor(0xE)] {
            var other = F.Object()
            try other.update(with: CausalContext(), .value(value), by: actor, siblingLimit: 64)
            merged = F.Object.sync(merged, other)
        }
        #expect(merged.encodedByteBound > budget)
        try merged.update(with: merged.join(), .value([1]), by: F.c, siblingLimit: 64, maxObjectBytes: budget)
        #expect(merged.size == 1)
    }

    /// `encodedByteBound` is never below the encoding's size.
    @Test func theByteBoundCoversTheEncoding() throws {
        var random = SplitMix64(seed: 42)
        for _ in 0..<200 {
            var object = F.Object()
            for _ in 0..<Int(random.next() % 6) {
                let actor = [F.a, F.b, F.c][Int(random.next() % 3)]
                let length = Int(random.next() % 2_000)
                let sibling: Sibling<[UInt8]> = random.next() % 5 == 0
                    ? .tombstone : .value([UInt8](repeating: 1, count: length))
                let context = random.next() % 2 == 0 ? object.join() : CausalContext()
                try object.update(with: context, sibling, by: actor, siblingLimit: 64)
            }
            #expect(object.encodedByteBound >= object.encode().count)
            #expect(object.encodedByteBound <= object.encode().count + 64 * (object.entries.count + object.size + 1))
        }
    }
}
