import CairnCore

// Test tables write instants as plain millisecond literals (`now: 1_000`). Only in tests:
// production code converts explicitly, so a variable of one clock never passes for the other.
extension MonotonicTime: ExpressibleByIntegerLiteral {
    public init(integerLiteral milliseconds: UInt64) { self.init(milliseconds: milliseconds) }
}

extension WallClockTime: ExpressibleByIntegerLiteral {
    public init(integerLiteral milliseconds: UInt64) { self.init(millisecondsSince1970: milliseconds) }
}
