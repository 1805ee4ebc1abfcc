import CairnCore

/// The simulator's only source of randomness: CairnCore's SplitMix64 from a seed, so a seed replays exactly.
///
/// Everything random in a simulated run (delays, drops, crashes, client choices) draws from
/// one of these, split per concern with `fork(_:)` so that adding a draw in one place does not
/// shift every other sequence (the trick TigerBeetle's VOPR and FoundationDB's simulator use to
/// keep seeds meaningful across code changes).
public struct SimRandom: RandomNumberGenerator, Sendable {
    private var generator: SplitMix64

    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { generator.next() }

    /// An independent generator for one concern, derived from this one's seed and a label.
    public func fork(_ label: UInt64) -> SimRandom {
        var copy = SimRandom(seed: generator.state ^ (label &* 0xD6E8_FEB8_6659_FD93))
        _ = copy.next()
        return copy
    }

    /// True with probability `p` (0...1).
    public mutating func chance(_ p: Double) -> Bool {
        p > 0 && Double(next() >> 11) / Double(1 << 53) < p
    }

    /// Uniform in `range`.
    public mutating func between(_ range: ClosedRange<UInt64>) -> UInt64 {
        range.lowerBound + next() % (range.upperBound - range.lowerBound + 1)
    }
}
