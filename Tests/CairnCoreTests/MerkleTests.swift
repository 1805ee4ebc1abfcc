import Testing
@testable import CairnCore

/// Merkle trees against a dumb model: per-segment multisets of (key, version) compared directly.
@Suite struct MerkleTests {
    /// Runs an exchange between two trees in memory; returns the segments found and the round trips.
    func exchange(_ a: MerkleTree, _ b: MerkleTree) throws -> (segments: [Int], roundTrips: Int) {
        var side = MerkleExchange(local: a)
        var step = side.start()
        var trips = 0
        while case .request(let request) = step {
            trips += 1
            step = try side.receive(b.hashes(level: request.level, indices: request.indices))
        }
        guard case .done(let segments) = step else { return ([], trips) }
        return (segments, trips)
    }

    @Test func identicalTreesNeedOneRoundTrip() throws {
        var a = MerkleTree(), b = MerkleTree()
        for i in 0..<1000 {
            a.insert(KeyHash(UInt64(i) &* 0x1234_5678_9ABC_DEF1), versionHash: UInt64(i))
            b.insert(KeyHash(UInt64(i) &* 0x1234_5678_9ABC_DEF1), versionHash: UInt64(i))
        }
        #expect(a == b)
        let result = try exchange(a, b)
        #expect(result.segments.isEmpty)
        #expect(result.roundTrips == 1)
    }

    @Test(arguments: 0..<40)
    func diffReturnsExactlyTheDifferingSegments(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        let shape = [(5, 2), (4, 3), (3, 2), (1, 4)][seed % 4]
        var a = MerkleTree(fanoutBits: shape.0, levels: shape.1)
        var b = a
        var modelA: [KeyHash: UInt64] = [:], modelB: [KeyHash: UInt64] = [:]
        // A shared base, then divergence: missing keys, extra keys, different versions, deletes.
        for _ in 0..<Int(rng.next() % 3000) {
            let key = KeyHash(rng.next()), version = rng.next()
            modelA[key] = version
            modelB[key] = version
        }
        for _ in 0..<Int(rng.next() % 30) {
            let keys = modelA.keys.sorted()  // sorted: Dictionary order differs per process
            let key = keys.isEmpty ? KeyHash(rng.next()) : keys[Int(rng.next() % UInt64(keys.count))]
            switch rng.next() % 4 {
            case 0: modelA[key] = rng.next()
            case 1: modelB[key] = nil
            case 2: modelB[KeyHash(rng.next())] = rng.next()
            default: modelA[key] = nil
            }
        }
        // Build A all at once; build B through updates so incremental maintenance is exercised.
        for (key, version) in modelA { a.insert(key, versionHash: version) }
        var replay: [KeyHash: UInt64] = [:]
        for (key, version) in modelB {
            b.update(key, from: nil, to: version &+ 1)
            replay[key] = version &+ 1
        }
        for (key, version) in modelB { b.update(key, from: replay[key], to: version) }
        func segments(_ model: [KeyHash: UInt64]) -> [Int: [UInt64]] {
            var out: [Int: [UInt64]] = [:]
            for (key, version) in model { out[a.segment(of: key), default: []].append(MerkleTree.mix(key, version)) }
            return out.mapValues { $0.sorted() }
        }
        let sa = segments(modelA), sb = segments(modelB)
        let expected = Set(sa.keys).union(sb.keys).filter { sa[$0] != sb[$0] }.sorted()
        let result = try exchange(a, b)
        #expect(result.segments == expected, "seed \(seed)")
        #expect(result.roundTrips == (expected.isEmpty ? 1 : a.levels + 1))
        // And from the other side.
        #expect(try exchange(b, a).segments == expected)
    }

    @Test func removingWhatWasInsertedRestoresTheTree() {
        var tree = MerkleTree()
        let empty = tree
        var rng = SplitMix64(seed: 9)
        let entries = (0..<500).map { _ in (KeyHash(rng.next()), rng.next()) }
        for (key, version) in entries { tree.insert(key, versionHash: version) }
        #expect(tree != empty)
        for (key, version) in entries.reversed() { tree.remove(key, versionHash: version) }
        #expect(tree == empty)
    }

    @Test func aMalformedAnswerIsAnErrorNotACrash() {
        var side = MerkleExchange(local: MerkleTree())
        _ = side.start()
        #expect(throws: MerkleExchange.ProtocolError.self) { try side.receive([1, 2, 3]) }
        var idle = MerkleExchange(local: MerkleTree())
        #expect(throws: MerkleExchange.ProtocolError.self) { try idle.receive([1]) }
    }
}

