import Testing
@testable import CairnStorage

/// The keydir against a dictionary and a sorted array, on random operations.
@Suite struct KeydirTests {
    @Test func insertFindRemove() {
        var keydir = Keydir()
        let key: [UInt8] = Array("hello".utf8)
        key.withUnsafeBytes { k in
            let h = XXH3.hash(k)
            #expect(keydir.find(k, hash: h) == nil)
            keydir.upsert(k, hash: h, KeydirEntry(fileId: 1, offset: 2, size: 3, expirySeconds: 0))
            #expect(keydir.find(k, hash: h) != nil)
            #expect(keydir.remove(k, hash: h)?.offset == 2)
            #expect(keydir.find(k, hash: h) == nil)
            #expect(keydir.count == 0)
        }
    }

    @Test(arguments: 0..<20)
    func randomOperationsMatchModel(seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed))
        var keydir = Keydir()
        var model: [[UInt8]: UInt32] = [:]
        // Few distinct keys with shared prefixes, so replaces, removes and order all matter.
        func randomKey() -> [UInt8] {
            let n = Int.random(in: 0..<3000, using: &rng)
            let prefix = ["a", "ab", "b", "user:", ""].randomElement(using: &rng)!
            return Array("\(prefix)\(n)".utf8) + (n % 7 == 0 ? [UInt8](repeating: 0xFF, count: n % 40) : [])
        }
        for step in 0..<20_000 {
            let key = randomKey()
            key.withUnsafeBytes { k in
                let h = XXH3.hash(k)
                if Int.random(in: 0..<3, using: &rng) == 0 {
                    let removed = keydir.remove(k, hash: h)
                    #expect((removed?.offset) == model.removeValue(forKey: key), "step \(step)")
                } else {
                    let value = UInt32(step)
                    let previous = keydir.upsert(k, hash: h, KeydirEntry(fileId: 1, offset: value, size: 40, expirySeconds: 0))
                    #expect(previous?.offset == model.updateValue(value, forKey: key), "step \(step)")
                }
            }
        }
        #expect(keydir.count == model.count)
        #expect(keydir.keyBytes == model.keys.reduce(0) { $0 + $1.count })
        // Point lookups.
        for (key, value) in model {
            key.withUnsafeBytes { k in
                let handle = keydir.find(k, hash: XXH3.hash(k))
                #expect(handle.map { keydir.entry($0).offset } == value)
            }
        }
        // Ordered walk from several starting points.
        let sorted = model.keys.sorted { $0.lexicographicallyPrecedes($1) }
        func walk(from start: [UInt8], strict: Bool) -> [[UInt8]] {
            var out: [[UInt8]] = []
            start.withUnsafeBytes { s in
                keydir.forEachOrdered(from: s, strict: strict) { handle in
                    out.append([UInt8](keydir.key(handle)))
                    return true
                }
            }
            return out
        }
        #expect(walk(from: [], strict: false) == sorted)
        for start in [bytes("ab"), bytes("b1"), bytes("user:5"), bytes("zzz")] {
            #expect(walk(from: start, strict: false) == sorted.filter { !$0.lexicographicallyPrecedes(start) })
            #expect(walk(from: start, strict: true) == sorted.filter { start.lexicographicallyPrecedes($0) })
        }
        // A rebuilt index (as after a bulk load) walks the same.
        keydir.buildOrder()
        #expect(walk(from: [], strict: false) == sorted)
    }

    @Test func memoryPerKeyIsWithinBudget() {
        var keydir = Keydir()
        var rng = SeededRandom(seed: 7)
        for _ in 0..<200_000 {
            var key = [UInt8](repeating: 0, count: 16)
            for i in 0..<16 { key[i] = UInt8.random(in: 0...255, using: &rng) }
            _ = key.withUnsafeBytes { keydir.upsert($0, hash: XXH3.hash($0), KeydirEntry(fileId: 1, offset: 0, size: 60, expirySeconds: 0)) }
        }
        let beyondKey = Double(keydir.memoryBytes - keydir.keyBytes) / Double(keydir.count)
        #expect(beyondKey <= 40, "keydir uses \(beyondKey) bytes per key beyond the key")
    }
}
