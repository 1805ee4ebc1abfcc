@testable import CairnCore

/// Helpers shared by the DVVSet tests.
enum DVVFixture {
    typealias Object = DVVSet<[UInt8]>

    static func actor(_ n: UInt64, epoch: UInt64 = 0) -> ReplicaActor {
        ReplicaActor(node: NodeID(high: 0, low: n), epoch: epoch)
    }

    static let a = actor(0xA)
    static let b = actor(0xB)
    static let c = actor(0xC)

    static func v(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func context(_ counters: [ReplicaActor: UInt64]) -> CausalContext { CausalContext(counters) }

    /// The live values of `object` as strings, in sibling order (no expiry in play).
    static func strings(_ object: Object, at now: WallClockTime = .zero) -> [String] {
        object.values(at: now).map { String(decoding: $0, as: UTF8.self) }
    }
}

