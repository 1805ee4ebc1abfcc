/// A reading of a node's monotonic clock, in milliseconds since some start of its own: what
/// timers, request deadlines and the failure detector measure. Never compared across nodes,
/// never skewed, never persisted.
///
/// Distinct from `WallClockTime` so that one cannot be passed for the other (TigerBeetle keeps
/// `monotonic` and `realtime` apart the same way): a deadline on the wall clock would jump with
/// NTP, an expiry on the monotonic clock would not survive a restart.
public struct MonotonicTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var milliseconds: UInt64

    public init(milliseconds: UInt64) { self.milliseconds = milliseconds }

    public static func < (a: MonotonicTime, b: MonotonicTime) -> Bool { a.milliseconds < b.milliseconds }

    public var description: String { "\(milliseconds) ms (monotonic)" }
}

/// A reading of a node's wall clock, in milliseconds since 1970: what TTL expiries and hint ages
/// are measured in, because those travel between nodes and survive restarts. May be skewed per
/// node (the simulator skews it on purpose).
public struct WallClockTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var millisecondsSince1970: UInt64

    public init(millisecondsSince1970: UInt64) { self.millisecondsSince1970 = millisecondsSince1970 }

    public static func < (a: WallClockTime, b: WallClockTime) -> Bool { a.millisecondsSince1970 < b.millisecondsSince1970 }

    public var description: String { "\(millisecondsSince1970) ms since 1970 (wall clock)" }
}
