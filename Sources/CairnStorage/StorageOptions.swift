import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When the engine makes a write durable before acknowledging it.
public enum Durability: Sendable, Hashable, CustomStringConvertible {
    /// fsync before a write returns; concurrent writers share one fsync (group commit).
    case always
    /// fsync in the background every so many milliseconds; a crash loses at most that window.
    case interval(milliseconds: Int)
    /// Never fsync while running (the OS writes back when it likes); fsync on close.
    case none

    public var description: String {
        switch self {
        case .always: "always"
        case .interval(let ms): "interval(\(ms)ms)"
        case .none: "none"
        }
    }

    /// Parses `always`, `none`, `interval` (100 ms) or `interval:MS`.
    public init?(parsing text: String) {
        switch text {
        case "always": self = .always
        case "none": self = .none
        case "interval": self = .interval(milliseconds: 100)
        default:
            guard text.hasPrefix("interval:"), let ms = Int(text.dropFirst("interval:".count)), ms > 0 else { return nil }
            self = .interval(milliseconds: ms)
        }
    }
}

/// The engine's source of wall-clock time, in milliseconds since 1970.
///
/// Expiry is absolute wall-clock time; tests inject a manual clock so TTL behaviour is exact.
public struct StorageClock: Sendable {
    public let nowMilliseconds: @Sendable () -> UInt64

    public init(_ nowMilliseconds: @escaping @Sendable () -> UInt64) {
        self.nowMilliseconds = nowMilliseconds
    }

    public static let system = StorageClock {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that moves only when told to; for tests and simulations.
public final class ManualStorageClock: Sendable {
    private let now: Atomic<UInt64>

    public init(milliseconds: UInt64 = 1_700_000_000_000) { now = Atomic(milliseconds) }

    public var milliseconds: UInt64 { now.load(ordering: .relaxed) }

    public func advance(milliseconds delta: UInt64) { now.add(delta, ordering: .relaxed) }

    public var clock: StorageClock {
        StorageClock { [self] in self.now.load(ordering: .relaxed) }
    }
}

/// How an engine is opened. The defaults suit a node holding dozens of partitions.
public struct StorageOptions: Sendable {
    public var durability: Durability = .interval(milliseconds: 100)
    /// The active data file rolls over once it reaches this size.
    public var maxFileSizeBytes: Int = 128 << 20
    public var maxKeyBytes: Int = 1024
    public var maxValueBytes: Int = 4 << 20
    /// An immutable file is merged once this fraction of its bytes is dead.
    public var mergeDeadFraction: Double = 0.4
    /// ...and it holds at least this many dead bytes (so tiny files are not rewritten for nothing).
    public var mergeMinDeadBytes: Int = 1 << 20
    /// Whether the shared runtime merges this engine in the background when files qualify.
    public var backgroundMerge: Bool = true
    /// Write a hint file for each data file as it becomes immutable (merge always writes them).
    public var hintsOnRollover: Bool = true
    public var clock: StorageClock = .system
    /// The pools and threads this engine shares with the other engines of the process.
    public var runtime: StorageRuntime = .shared

    public init() {}

    public init(durability: Durability) { self.durability = durability }

    /// Largest record this configuration can write: header, key and an incompressible value.
    var maxRecordBytes: Int { RecordHeader.size + maxKeyBytes + maxValueBytes + 8 }
}
