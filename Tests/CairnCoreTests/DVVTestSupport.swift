@testable import CairnCore

/// Helpers shared by the DVVSet tests.
enum DVVFixture {
    typealias Object = DVVSet<[UInt8]>

    static func actor(_ n: UInt64, epoch: UInt32 = 0) -> ReplicaActor {
        ReplicaActor(node: NodeID(high: 0, low: n), epoch: epoch)
    }

    static let a = actor(0xA)
    static let b = actor(0xB)
    static let c = actor(0xC)

    static func v(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func context(_ counters: [ReplicaActor: UInt64]) -> CausalContext { CausalContext(counters) }

    /// The live values of `object` as strings, in sibling order (no expiry in play).
    static func strings(_ object: Object, at now: UInt64 = 0) -> [String] {
        object.values(atMilliseconds: now).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// SplitMix64: a small seeded generator, so a failing case replays from its seed.
struct DVVRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}
