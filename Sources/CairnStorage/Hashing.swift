import CXXHash

/// xxHash3 over raw bytes: the record checksum and the keydir's hash.
///
/// xxHash3 is the hash the design names for checksums and partitioning; it runs at memory
/// speed on short inputs, so checking every record on every read costs little.
@usableFromInline
enum XXH3 {
    @inlinable @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        cairn_xxh3_64(bytes.baseAddress, bytes.count)
    }

    @inlinable @inline(__always)
    static func hash(_ pointer: UnsafeRawPointer, count: Int) -> UInt64 {
        cairn_xxh3_64(pointer, count)
    }

    @inlinable @inline(__always)
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { cairn_xxh3_64($0.baseAddress, $0.count) }
    }
}
