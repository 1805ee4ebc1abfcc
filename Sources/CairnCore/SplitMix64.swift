/// SplitMix64 (Steele, Lea & Flood 2014): a tiny generator that turns a seed into a stream.
///
/// `CairnCore` creates no randomness; where a machine needs varied choices (CAS backoff) it is
/// given a seed and expands it with this, and the simulator and the tests draw from the same
/// generator so a seed means the same thing everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
