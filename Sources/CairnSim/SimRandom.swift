/// The simulator's only source of randomness: SplitMix64 from a seed, so a seed replays exactly.
///
/// Everything random in a simulated run (delays, drops, crashes, client choices) draws from
/// one of these, split per concern with `fork(_:)` so that adding a draw in one place does not
/// shift every other sequence (the trick TigerBeetle's VOPR and FoundationDB's simulator use to
/// keep seeds meaningful across code changes).
public struct SimRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent generator for one concern, derived from this one's seed and a label.
    public func fork(_ label: UInt64) -> SimRandom {
        var copy = SimRandom(seed: state ^ (label &* 0xD6E8_FEB8_6659_FD93))
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
