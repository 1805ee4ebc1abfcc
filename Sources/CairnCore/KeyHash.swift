/// The 64-bit hash of a key that places it on the ring.
///
/// Cairn places keys by their xxHash3 (DESIGN.md §2). `CairnCore` imports nothing but the
/// standard library, so it does not compute the hash itself: the node and the simulator, which
/// link xxHash, hash the key and hand the result in. Keeping the hash a distinct type (not a bare
/// `UInt64`) stops a key's hash being confused with a seq, a counter or a ballot.
public struct KeyHash: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    public static func < (a: KeyHash, b: KeyHash) -> Bool { a.value < b.value }

    public var description: String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
