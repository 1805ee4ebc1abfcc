/// What a load run asks of the cluster: which operations, on which keys, with what values.
///
/// Keys are `keyPrefix` plus the index, zero-padded to one width (`bench/0042` of 10,000
/// keys), so they sort by index and a scan after key `i` lists keys `i+1`, `i+2`, …. CAS uses
/// keys of its own (`keyPrefix` + `cas/` + index): a key that a compare-and-set has written is
/// refused to plain writes from then on (docs/cas.md), so the two kinds must not share keys.
public struct Workload: Sendable, Hashable {
    /// The mixes `--workload` names.
    public enum Kind: String, CaseIterable, Sendable {
        /// Reads of existing keys (preloaded first).
        case get
        /// Plain writes (no context: the node reads a quorum, then supersedes what it found).
        case put
        /// Reads and writes, `getPercent` of them reads.
        case mixed
        /// Compare-and-set, each expecting the value this run last saw for the key.
        case cas
        /// Short scans: `scanLimit` keys from a random key on.
        case scan
    }

    public var kind: Kind
    /// How many distinct keys (1...10,000,000).
    public var keyCount: Int
    /// The size of every written value.
    public var valueBytes: Int
    public var distribution: KeyDistribution
    /// For `mixed`: the share of reads, 0...100.
    public var getPercent: Int
    /// For `scan`: keys per scan, 1...1000.
    public var scanLimit: Int
    public var keyPrefix: String

    public static let maxKeyCount = 10_000_000

    public init(
        kind: Kind, keyCount: Int, valueBytes: Int = 100, distribution: KeyDistribution = .uniform, getPercent: Int = 90,
        scanLimit: Int = 10, keyPrefix: String = "bench/"
    ) {
        precondition((1...Self.maxKeyCount).contains(keyCount), "key count \(keyCount) outside 1...\(Self.maxKeyCount)")
        precondition((0...100).contains(getPercent), "get percent \(getPercent) outside 0...100")
        precondition(valueBytes >= 0 && scanLimit >= 1, "value bytes \(valueBytes) and scan limit \(scanLimit)")
        self.kind = kind
        self.keyCount = keyCount
        self.valueBytes = valueBytes
        self.distribution = distribution
        self.getPercent = getPercent
        self.scanLimit = scanLimit
        self.keyPrefix = keyPrefix
    }

    /// The operations this workload issues, in report order.
    public var operations: [OperationKind] {
        switch kind {
        case .get: [.get]
        case .put: [.put]
        case .mixed: getPercent == 100 ? [.get] : getPercent == 0 ? [.put] : [.get, .put]
        case .cas: [.cas]
        case .scan: [.scan]
        }
    }

    /// Whether the keys are written before the measured run unless told otherwise: reads and
    /// scans of absent keys would measure misses.
    public var preloadsByDefault: Bool { kind == .get || kind == .mixed || kind == .scan }

    /// The digits of the largest index: every key has the same length.
    var indexWidth: Int { String(keyCount - 1).count }

    /// Key `index` of the data keys (get, put, scan).
    public func key(_ index: Int) -> [UInt8] { Array(keyPrefix.utf8) + Self.padded(index, width: indexWidth) }

    /// Key `index` of the CAS keys.
    public func casKey(_ index: Int) -> [UInt8] { Array((keyPrefix + "cas/").utf8) + Self.padded(index, width: indexWidth) }

    /// What the report's first line says about the mix.
    public var summary: String {
        switch kind {
        case .mixed: "mixed (\(getPercent)% get, \(100 - getPercent)% put)"
        case .scan: "scan (\(scanLimit) keys from a random key)"
        default: kind.rawValue
        }
    }

    private static func padded(_ index: Int, width: Int) -> [UInt8] {
        let digits = Array(String(index).utf8)
        return [UInt8](repeating: UInt8(ascii: "0"), count: Swift.max(0, width - digits.count)) + digits
    }
}
