import Testing
@testable import CairnCore

/// The binary forms of `DVVSet` and `CausalContext`: round trips, the pinned byte layout, and
/// refusal of anything malformed without a trap.
@Suite struct DVVSetEncodingTests {
    typealias F = DVVFixture

    /// A random object with a valid history: a few actors, random counters, the newest
    /// counters live, values, tombstones and expiries mixed.
    static func randomObject(_ random: inout SplitMix64) -> F.Object {
        var actors: Set<ReplicaActor> = []
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            actors.insert(ReplicaActor(
                node: NodeID(high: random.next() >> UInt64.random(in: 0...63, using: &random), low: random.next()),
                epoch: UInt64.random(in: 0...UInt64.max, using: &random) >> UInt64.random(in: 0...63, using: &random)))
        }
        let entries = actors.sorted().map { actor -> F.Object.Entry in
            let counter = UInt64.random(in: 1...Dot.maxCounter, using: &random) >> UInt64.random(in: 0...62, using: &random)
            let live = Int.random(in: 0...Int(min(counter, 3)), using: &random)
            let siblings = (0..<live).map { _ -> Sibling<[UInt8]> in
                let expiry: WallClockTime? = Bool.random(using: &random)
                    ? nil : WallClockTime(millisecondsSince1970: (random.next() >> UInt64.random(in: 1...63, using: &random) | 1) % WallClockTime.maxMillisecondsSince1970 + 1)
                return Bool.random(using: &random)
                    ? .value(random.bytes(Int.random(in: 0...300, using: &random)), expiry: expiry)
                    : Sibling(.tombstone, expiry: expiry)
            }
            return F.Object.Entry(actor: actor, counter: max(counter, 1), siblings: siblings)
        }
        return F.Object(sortedEntries: entries)
    }

    @Test func pinnedLayoutOfASmallObjectAndContext() throws {
        let actor = ReplicaActor(node: NodeID(high: 0, low: 0x0102), epoch: 3)
        let object = F.Object.new([0xAA], by: actor)
        let node: [UInt8] = Array(repeating: 0, count: 14) + [0x01, 0x02]
        // version 1, kind 1, body length 23 LE | 1 entry | node, epoch 3, counter 1, 1 sibling | flags 0, length 1, 0xAA
        #expect(object.encode() == [1, 1, 23, 0, 0, 0, 1] + node + [3, 1, 1, 0, 1, 0xAA])

        var tomb = F.Object()
        tomb.update(with: CausalContext(), Sibling(.tombstone, expiry: WallClockTime(millisecondsSince1970: 300)), by: actor)
        // flags 3 (tombstone, expiry), expiry 300 = varint AC 02, no value
        #expect(tomb.encode() == [1, 1, 23, 0, 0, 0, 1] + node + [3, 1, 1, 3, 0xAC, 0x02])

        #expect(object.join().encode() == [1, 2, 19, 0, 0, 0, 1] + node + [3, 1])
        #expect(F.Object().encode() == [1, 1, 1, 0, 0, 0, 0])
    }

    @Test(arguments: 0..<20)
    func randomObjectsAndContextsRoundTrip(seed: UInt64) throws {
        var random = SplitMix64.mixed(seed)
        for _ in 0..<50 {
            let object = Self.randomObject(&random)
            let bytes = object.encode()
            let decoded = try F.Object(decoding: bytes)
            #expect(decoded == object)
            #expect(decoded.encode() == bytes)
            let context = object.join()
            #expect(try CausalContext(decoding: context.encode()) == context)
        }
    }

    @Test func objectsFromRealHistoriesRoundTrip() throws {
        var object = F.Object()
        for step in 0..<30 {
            let actor = [F.a, F.b, F.c][step % 3]
            let context = step % 4 == 0 ? object.join() : CausalContext()
            object.update(with: context, value: F.v("value \(step)"), expiry: step % 2 == 0 ? nil : WallClockTime(millisecondsSince1970: 1_000), by: actor)
            #expect(try F.Object(decoding: object.encode()) == object)
        }
    }

    /// Every prefix of a valid encoding, and every one-byte change of it, decodes to an error or
    /// to an object that re-encodes to exactly those bytes (the encoding is canonical).
    @Test func truncationsAndByteFlipsNeverTrapAndNeverDecodeNonCanonically() throws {
        var random = SplitMix64.mixed(42)
        var checked = 0
        for _ in 0..<40 {
            let bytes = Self.randomObject(&random).encode()
            for length in 0..<bytes.count {
                #expect(throws: VersionError.self) { try F.Object(decoding: Array(bytes[..<length])) }
            }
            for _ in 0..<30 {
                var mutated = bytes
                let at = Int.random(in: 0..<mutated.count, using: &random)
                mutated[at] ^= UInt8.random(in: 1...255, using: &random)
                if let decoded = try? F.Object(decoding: mutated) {
                    #expect(decoded.encode() == mutated)
                }
                checked += 1
            }
            #expect(throws: VersionError.self) { try F.Object(decoding: bytes + [0]) }
        }
        #expect(checked == 1200)
    }

    @Test func randomByteStringsNeverTrap() {
        var random = SplitMix64.mixed(7)
        var decodedObjects = 0
        for round in 0..<4000 {
            var bytes = random.bytes(Int.random(in: 0...80, using: &random))
            // Half the time, a plausible header, so the body parser is exercised too.
            if round % 2 == 0, bytes.count >= 6 {
                bytes[0] = 1
                bytes[1] = UInt8(1 + round % 4 / 2)
                let body = bytes.count - 6
                bytes[2] = UInt8(body)
                bytes[3] = 0
                bytes[4] = 0
                bytes[5] = 0
            }
            do {
                let object = try F.Object(decoding: bytes)
                #expect(object.encode() == bytes)
                decodedObjects += 1
            } catch {
                #expect(!error.message.isEmpty)
            }
            if let context = try? CausalContext(decoding: bytes) {
                #expect(context.encode() == bytes)
            }
        }
        // The empty-object body (a single 0) is reachable; most random bodies are not valid.
        #expect(decodedObjects < 4000)
    }

    @Test func errorsNameTheProblem() throws {
        let actor = ReplicaActor(node: NodeID(high: 0, low: 1))
        let valid = F.Object.new([1, 2, 3], by: actor).encode()
        func code(_ bytes: [UInt8], limits: DVVSetDecodingLimits = DVVSetDecodingLimits()) -> VersionError.Code? {
            let result = Result { () throws(VersionError) in try F.Object(decoding: bytes, limits: limits) }
            if case .failure(let error) = result { return error.code }
            return nil
        }
        #expect(code([]) == .truncated)
        #expect(code([2] + valid.dropFirst()) == .unsupportedVersion)
        #expect(code([1, 2] + valid.dropFirst(2)) == .wrongKind)
        #expect(code(Array(valid.dropLast())) == .truncated)
        #expect(code(valid + [0]) == .malformed)
        #expect(code(valid, limits: DVVSetDecodingLimits(maxEncodedBytes: valid.count - 1)) == .tooLarge)
        #expect(code(valid, limits: DVVSetDecodingLimits(maxValueBytes: 2)) == .tooLarge)
        #expect(code(valid, limits: DVVSetDecodingLimits(maxSiblings: 0)) == .tooLarge)
        #expect(code(valid, limits: DVVSetDecodingLimits(maxEntries: 0)) == .tooLarge)

        // A length field claiming 4 GiB of body is refused without allocating it.
        #expect(code([1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0]) == .truncated)
        // An entry count far beyond the bytes present.
        #expect(code([1, 1, 5, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) == .tooLarge)
        // A non-minimal number: entry count 0 written as 80 00.
        #expect(code([1, 1, 2, 0, 0, 0, 0x80, 0x00]) == .malformed)

        // Body offsets in `valid`: 6 count, 7…22 node, 23 epoch, 24 counter, 25 sibling count, 26 flags.
        var zeroCounter = valid
        zeroCounter[24] = 0
        #expect(code(zeroCounter) == .malformed)
        var badFlags = valid
        badFlags[26] = 0x04
        #expect(code(badFlags) == .malformed)
        var tooManySiblings = valid
        tooManySiblings[25] = 2  // two siblings under counter 1
        #expect(code(tooManySiblings) == .malformed)

        // Two entries with actors out of order.
        var object = F.Object.new([9], by: ReplicaActor(node: NodeID(high: 0, low: 2)))
        object.sync(with: F.Object.new([8], by: actor))
        var swapped = object.encode()
        let first = Array(swapped[7..<23])
        let second = Array(swapped[23 + 6..<23 + 6 + 16])
        #expect(first != second)
        swapped.replaceSubrange(7..<23, with: second)
        swapped.replaceSubrange((23 + 6)..<(23 + 6 + 16), with: first)
        #expect(code(swapped) == .malformed)

        let error = VersionError(.tooLarge, "entry count 9", offset: 6, limit: 4)
        #expect(error.description == "tooLarge: entry count 9 @6 (limit 4)")
    }

    @Test func contextDecodingRefusesMalformedInput() throws {
        let context = F.context([F.a: 5, F.b: 1])
        let bytes = context.encode()
        #expect(try CausalContext(decoding: bytes) == context)
        #expect(throws: VersionError.self) { try CausalContext(decoding: Array(bytes.dropLast())) }
        #expect(throws: VersionError.self) { try CausalContext(decoding: bytes, maxEncodedBytes: bytes.count - 1) }
        #expect(throws: VersionError.self) { try CausalContext(decoding: F.Object.new([1], by: F.a).encode()) }
        // A counter above Dot.maxCounter (2^62 + 1) cannot be smuggled in.
        let huge = CausalContext(sortedEntries: [Dot(actor: F.a, counter: Dot.maxCounter + 1)]).encode()
        #expect(throws: VersionError.self) { try CausalContext(decoding: huge) }
        let largest = CausalContext(sortedEntries: [Dot(actor: F.a, counter: Dot.maxCounter)])
        #expect(try CausalContext(decoding: largest.encode()) == largest)
    }
}
