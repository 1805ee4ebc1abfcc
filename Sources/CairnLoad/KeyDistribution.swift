/// How a workload picks which key each operation touches.
public enum KeyDistribution: Sendable, Hashable, CustomStringConvertible {
    /// Every key equally likely.
    case uniform
    /// Zipf with this exponent: a few keys take most operations (key 0 the most), as real
    /// traffic often does (YCSB's "zipfian" request distribution; 0.99 is its exponent).
    case zipfian(exponent: Double)

    /// YCSB's exponent, the default of `--zipf-exponent`.
    public static let defaultZipfExponent = 0.99

    public var description: String {
        switch self {
        case .uniform: "uniform"
        case .zipfian(let exponent): "zipfian (s=\(exponent))"
        }
    }

    /// The name `--distribution` takes.
    public var name: String {
        switch self {
        case .uniform: "uniform"
        case .zipfian: "zipfian"
        }
    }
}

/// Draws key indices `0..<count` under a distribution.
public struct KeyChooser: Sendable {
    public let count: Int
    public let distribution: KeyDistribution
    private let zipf: ZipfSampler?

    public init(count: Int, distribution: KeyDistribution) {
        precondition(count >= 1, "a key chooser needs at least one key, got \(count)")
        self.count = count
        self.distribution = distribution
        switch distribution {
        case .uniform: zipf = nil
        case .zipfian(let exponent): zipf = ZipfSampler(count: count, exponent: exponent)
        }
    }

    /// One key index.
    public func next<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Int {
        if let zipf { return zipf.sample(using: &generator) }
        return Int.random(in: 0..<count, using: &generator)
    }
}
