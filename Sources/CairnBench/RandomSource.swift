/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast generator; each worker thread owns one.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finaliser: a bijection on UInt64, so distinct inputs give distinct outputs.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in 0..<bound (bound > 0), by multiply-shift (Lemire); bias is negligible here.
    @inline(__always)
    mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}

/// The keys every workload uses: 16 bytes each.
///
/// Loaded stores use `indexed(_:)`, a bijection of the index, so a reader can pick an existing
/// key by drawing an index without keeping a million keys in memory.
enum BenchKeys {
    static let size = 16

    /// A random-looking 16-byte key that is a pure function of `index`.
    static func indexed(_ index: Int) -> [UInt8] {
        let i = UInt64(truncatingIfNeeded: index)
        return make(SplitMix64.mix(i), SplitMix64.mix(i ^ 0x5DEE_CE66_D1CE_4E5B))
    }

    /// A fresh random key from the worker's generator (inserts of new keys).
    static func random(_ rng: inout SplitMix64) -> [UInt8] {
        make(rng.next(), rng.next())
    }

    /// The 12-byte scan prefix `user:NNNNNN:` of a group.
    static func prefix(group: Int) -> [UInt8] {
        precondition(group >= 0 && group < 1_000_000, "prefix group \(group) out of range")
        var bytes: [UInt8] = Array("user:".utf8)
        bytes.reserveCapacity(size)
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: 6)
        var rest = group
        for position in stride(from: 5, through: 0, by: -1) {
            digits[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        bytes.append(contentsOf: digits)
        bytes.append(UInt8(ascii: ":"))
        return bytes
    }

    /// Member `member` (0..<256) of a prefix group: the prefix plus 4 bytes, three of them
    /// hashed from both numbers and the last the member itself, so members never collide.
    static func prefixed(group: Int, member: Int) -> [UInt8] {
        precondition(member >= 0 && member < 256, "prefix member \(member) out of range")
        var bytes = prefix(group: group)
        let hashed = UInt32(truncatingIfNeeded: SplitMix64.mix(UInt64(group) << 8 | UInt64(member)))
        let tail = hashed & 0xFFFF_FF00 | UInt32(member)
        withUnsafeBytes(of: tail.bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    private static func make(_ high: UInt64, _ low: UInt64) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
            count = size
        }
    }
}

/// A fixed set of random (incompressible) values of one size, shared read-only by all workers.
///
/// Handing out one of 256 prepared arrays costs a reference-count increment, so the measured
/// time is the engine's, not the generator's.
struct ValuePool: Sendable {
    let valueBytes: Int
    private let values: [[UInt8]]

    init(valueBytes: Int, seed: UInt64) {
        self.valueBytes = valueBytes
        var rng = SplitMix64(seed: seed)
        values = (0..<256).map { _ in
            (0..<valueBytes).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
    }

    @inline(__always)
    func pick(_ rng: inout SplitMix64) -> [UInt8] {
        values[Int(truncatingIfNeeded: rng.next() & 255)]
    }

    func value(at index: Int) -> [UInt8] { values[index & 255] }
}
