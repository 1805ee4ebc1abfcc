import CairnCore
import Synchronization

/// One worker's stream of requests: which operation, which key, which value, from its own
/// seeded generator, so a run's seed fixes every worker's sequence.
struct WorkloadGenerator {
    let workload: Workload
    private var random: SplitMix64
    private let keys: KeyChooser
    private let values: [[UInt8]]

    /// How many distinct values each worker writes (random bytes, so compression gains nothing).
    static let valuePoolSize = 16

    init(workload: Workload, seed: UInt64) {
        self.workload = workload
        random = SplitMix64(seed: seed)
        keys = KeyChooser(count: workload.keyCount, distribution: workload.distribution)
        var valueRandom = SplitMix64(seed: seed ^ 0xA076_1D64_78BD_642F)
        values = (0..<Self.valuePoolSize).map { _ in
            (0..<workload.valueBytes).map { _ in UInt8(truncatingIfNeeded: valueRandom.next()) }
        }
    }

    /// The next request; a CAS expects what `book` last saw for its key.
    mutating func next(book: CASBook) -> (request: LoadRequest, keyIndex: Int) {
        let index = keys.next(using: &random)
        switch workload.kind {
        case .get:
            return (.get(key: workload.key(index)), index)
        case .put:
            return (.put(key: workload.key(index), value: value()), index)
        case .mixed:
            if Int.random(in: 0..<100, using: &random) < workload.getPercent { return (.get(key: workload.key(index)), index) }
            return (.put(key: workload.key(index), value: value()), index)
        case .cas:
            return (.cas(key: workload.casKey(index), expected: book.expected(index), new: value()), index)
        case .scan:
            return (.scan(prefix: Array(workload.keyPrefix.utf8), after: workload.key(index), limit: workload.scanLimit), index)
        }
    }

    /// One of the pool's values.
    mutating func value() -> [UInt8] { values[Int.random(in: 0..<values.count, using: &random)] }
}

/// What a run last saw each CAS key hold, shared by its workers: a CAS expects it, and learns
/// the key's value from the answer (its own new value when applied, the current one when not).
/// Only keys touched are kept.
final class CASBook: Sendable {
    private let known = Mutex<[Int: [UInt8]]>([:])

    /// The value key `index` was last seen to hold; `nil`: absent, or never seen.
    func expected(_ index: Int) -> [UInt8]? { known.withLock { $0[index] } }

    func learn(_ index: Int, holds value: [UInt8]?) { known.withLock { $0[index] = value } }
}
