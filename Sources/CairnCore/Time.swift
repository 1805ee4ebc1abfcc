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

    /// The last millisecond of the year 9999: the latest wall-clock instant taken from outside
    /// (expiries, proposal times). Decoders refuse later ones, so arithmetic on an instant
    /// (rounding to seconds, adding a grace period) never nears the integer's limit.
    public static let maxMillisecondsSince1970: UInt64 = 253_402_300_799_999

    public static func < (a: WallClockTime, b: WallClockTime) -> Bool { a.millisecondsSince1970 < b.millisecondsSince1970 }

    public var description: String { "\(millisecondsSince1970) ms since 1970 (wall clock)" }
}

/// Arithmetic of instants: an instant plus a duration in milliseconds is an instant; the
/// difference of two instants of one clock is a duration in milliseconds. Durations stay plain
/// `UInt64` milliseconds (settings, timeouts); only instants carry a clock. Both saturate
/// rather than trap, so a reading from a confused clock cannot crash a node.
extension MonotonicTime {
    public static let zero = MonotonicTime(milliseconds: 0)

    public static func + (instant: MonotonicTime, milliseconds: UInt64) -> MonotonicTime {
        let sum = instant.milliseconds.addingReportingOverflow(milliseconds)
        return MonotonicTime(milliseconds: sum.overflow ? .max : sum.partialValue)
    }

    public static func += (instant: inout MonotonicTime, milliseconds: UInt64) { instant = instant + milliseconds }

    /// The milliseconds from `earlier` to this instant (0 when `earlier` is later).
    public func milliseconds(since earlier: MonotonicTime) -> UInt64 {
        milliseconds >= earlier.milliseconds ? milliseconds - earlier.milliseconds : 0
    }
}

extension WallClockTime {
    public static let zero = WallClockTime(millisecondsSince1970: 0)

    public static func + (instant: WallClockTime, milliseconds: UInt64) -> WallClockTime {
        let sum = instant.millisecondsSince1970.addingReportingOverflow(milliseconds)
        return WallClockTime(millisecondsSince1970: sum.overflow ? .max : sum.partialValue)
    }

    /// The instant `milliseconds` before this one (the epoch at the earliest).
    public static func - (instant: WallClockTime, milliseconds: UInt64) -> WallClockTime {
        WallClockTime(millisecondsSince1970: instant.millisecondsSince1970 >= milliseconds ? instant.millisecondsSince1970 - milliseconds : 0)
    }

    /// The milliseconds from `earlier` to this instant (0 when `earlier` is later).
    public func milliseconds(since earlier: WallClockTime) -> UInt64 {
        millisecondsSince1970 >= earlier.millisecondsSince1970 ? millisecondsSince1970 - earlier.millisecondsSince1970 : 0
    }
}
