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
    /// Absolute expiry in milliseconds since 1970; 0 means never.
    public var expiryMilliseconds: UInt64

    public init(_ content: Content, expiryMilliseconds: UInt64 = 0) {
        self.content = content
        self.expiryMilliseconds = expiryMilliseconds
    }

    /// A value sibling.
    public static func value(_ value: Value, expiryMilliseconds: UInt64 = 0) -> Sibling {
        Sibling(.value(value), expiryMilliseconds: expiryMilliseconds)
    }

    /// A tombstone sibling (a delete).
    public static var tombstone: Sibling { Sibling(.tombstone) }

    /// Whether the sibling has expired at `nowMilliseconds` (expiry is inclusive: a sibling
    /// with expiry `t` is gone at `t`).
    public func isExpired(atMilliseconds nowMilliseconds: UInt64) -> Bool {
        expiryMilliseconds != 0 && nowMilliseconds >= expiryMilliseconds
    }

    /// What a read at `nowMilliseconds` sees: the content, or a tombstone once expired.
    public func read(atMilliseconds nowMilliseconds: UInt64) -> Content {
        isExpired(atMilliseconds: nowMilliseconds) ? .tombstone : content
    }

    /// Whether the sibling is a tombstone, either written as one or expired.
    public func isTombstone(atMilliseconds nowMilliseconds: UInt64) -> Bool {
        read(atMilliseconds: nowMilliseconds) == .tombstone
    }
}
