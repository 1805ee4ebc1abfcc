/// One version of a key kept in a `DVVSet`: a value or a tombstone, with its own expiry.
///
/// A delete is a write like any other (DESIGN.md §2, "Deletes and expiry"): it adds a
/// tombstone sibling with a fresh dot, so it supersedes exactly the versions its context
/// covers and stays concurrent with the rest. Each sibling carries its own absolute expiry
/// because concurrent writes may carry different TTLs. Expiry never changes causality: an
/// expired sibling keeps its dot and is merged like any other, and only *reads* see it as a
/// tombstone, on every replica alike, so expired data cannot come back through repair.
public struct Sibling<Value: Hashable & Sendable>: Hashable, Sendable {
    /// What a sibling holds: a value or the mark of a delete.
    public enum Content: Hashable, Sendable {
        case value(Value)
        case tombstone
    }

    public var content: Content
    /// When the sibling expires, on the writer's wall clock; `nil`: never.
    public var expiry: WallClockTime?

    public init(_ content: Content, expiry: WallClockTime? = nil) {
        self.content = content
        self.expiry = expiry
    }

    /// A value sibling.
    public static func value(_ value: Value, expiry: WallClockTime? = nil) -> Sibling {
        Sibling(.value(value), expiry: expiry)
    }

    /// A tombstone sibling (a delete).
    public static var tombstone: Sibling { Sibling(.tombstone) }

    /// Whether the sibling has expired at `now` (expiry is inclusive: a sibling with expiry
    /// `t` is gone at `t`).
    public func isExpired(at now: WallClockTime) -> Bool {
        expiry.map { now >= $0 } ?? false
    }

    /// What a read at `now` sees: the content, or a tombstone once expired.
    public func read(at now: WallClockTime) -> Content {
        isExpired(at: now) ? .tombstone : content
    }

    /// Whether the sibling is a tombstone, either written as one or expired.
    public func isTombstone(at now: WallClockTime) -> Bool {
        read(at: now) == .tombstone
    }
}
