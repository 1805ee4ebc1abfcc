/// When each operation of an open-loop run is due: operation `i` (from 0) at `i / rate`
/// seconds after the run starts, whatever happened to the ones before it.
///
/// Latency is then measured from that intended time, not from when the request actually went
/// out. A closed-loop generator that waits for each answer before sending the next stops
/// sending while the server stalls, so the stall shows up in one sample instead of in every
/// request that should have been sent meanwhile ("coordinated omission", Gil Tene; wrk2 and
/// HdrHistogram's `recordCorrectedValue` are the usual remedies). With a schedule, a request
/// held up behind a slow one is charged for the wait.
///
/// The arithmetic is on whole nanoseconds in 128 bits, so it is exact for every index and
/// saturates instead of trapping.
public struct OpenLoopSchedule: Sendable, Hashable {
    /// The target rate, operations per second (at least 1).
    public let operationsPerSecond: UInt64

    private static let nanosecondsPerSecond: UInt64 = 1_000_000_000

    public init(operationsPerSecond: UInt64) {
        precondition(operationsPerSecond >= 1, "an open-loop rate must be at least 1 operation per second")
        self.operationsPerSecond = operationsPerSecond
    }

    /// Nanoseconds after the start at which operation `index` is due: ⌊index × 10⁹ / rate⌋
    /// (`UInt64.max` past what 64 bits hold).
    public func offsetNanoseconds(ofOperation index: UInt64) -> UInt64 {
        Self.divide(index.multipliedFullWidth(by: Self.nanosecondsPerSecond), by: operationsPerSecond)
    }

    /// The same as a `Duration`.
    public func offset(ofOperation index: UInt64) -> Duration {
        let nanoseconds = offsetNanoseconds(ofOperation: index)
        return .seconds(nanoseconds / Self.nanosecondsPerSecond) + .nanoseconds(nanoseconds % Self.nanosecondsPerSecond)
    }

    /// How many operations are due within the first `nanoseconds` of the run: those whose
    /// offset is below it, ⌈nanoseconds × rate / 10⁹⌉. A run of duration `d` sends this many.
    public func operations(withinNanoseconds nanoseconds: UInt64) -> UInt64 {
        let product = nanoseconds.multipliedFullWidth(by: operationsPerSecond)
        let (low, carry) = product.low.addingReportingOverflow(Self.nanosecondsPerSecond - 1)
        let (high, overflow) = product.high.addingReportingOverflow(carry ? 1 : 0)
        if overflow { return .max }
        return Self.divide((high, low), by: Self.nanosecondsPerSecond)
    }

    /// How many operations are due at `nanoseconds` after the start, its own instant included:
    /// the backlog a generator has is this minus the operations it has sent.
    public func operationsDue(atNanoseconds nanoseconds: UInt64) -> UInt64 {
        nanoseconds == .max ? .max : operations(withinNanoseconds: nanoseconds + 1)
    }

    /// ⌊value / divisor⌋ of a 128-bit value, `UInt64.max` when the quotient does not fit.
    private static func divide(_ value: (high: UInt64, low: UInt64), by divisor: UInt64) -> UInt64 {
        guard value.high < divisor else { return .max }
        return divisor.dividingFullWidth(value).quotient
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to `0...UInt64.max` (durations here are never negative).
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, carry) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return carry ? .max : sum
    }

    /// Seconds as a `Double`, for rates and reports.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
