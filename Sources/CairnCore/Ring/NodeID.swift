/// The stable identity of a node: a 128-bit value created once, on the node's first start, and
/// kept in its data directory (DESIGN.md §3, "Identity").
///
/// Why 128 bits and not a name: a node's name or address is something an operator may change
/// (a host is renamed, a port moves), but the ring, hints and dots must keep naming the same node.
/// A 128-bit value derived from a fresh random key (the node makes the key and derives the value
/// from its public half, so a signature can name its signer; `CairnCore` creates no randomness
/// and sees only the 128 bits) is unique without coordination, has a fixed 16-byte encoding for
/// the ring and the wire (no length prefix, no Unicode normalisation questions), and compares and
/// hashes as two integers, which matters because claim sorts and compares identities many times
/// per ring change. Human-readable names belong in membership metadata next to the identity, not
/// in it.
///
/// Order is numeric, high word first, which is also the order of the big-endian bytes and of
/// the hex text, so every representation sorts the same way.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The most significant 64 bits.
    public var high: UInt64
    /// The least significant 64 bits.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The identity encoded as 16 big-endian bytes, as `bytes` produces; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 {
                high = high << 8 | UInt64(byte)
            } else {
                low = low << 8 | UInt64(byte)
            }
        }
        self.init(high: high, low: low)
    }

    /// The identity written as 32 hexadecimal digits, as `description` produces; `nil` otherwise.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 32,
              let high = UInt64(String(decoding: utf8[0..<16], as: UTF8.self), radix: 16),
              let low = UInt64(String(decoding: utf8[16..<32], as: UTF8.self), radix: 16)
        else { return nil }
        self.init(high: high, low: low)
    }

    /// The 16-byte big-endian encoding used by the ring and the wire.
    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        return result
    }

    public static func < (a: NodeID, b: NodeID) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    /// 32 lowercase hexadecimal digits.
    public var description: String {
        Self.hex16(high) + Self.hex16(low)
    }

    private static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
