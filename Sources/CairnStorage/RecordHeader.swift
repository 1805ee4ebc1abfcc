/// The fixed 32-byte header in front of every record of a data file.
///
/// ```
///  0       8    9    10     12        16              24              32
///  +-------+----+----+------+---------+---------------+---------------+-----+-------+
///  | xxh3  |ver |flg |keyLen| valLen  |      seq      |  expiresAtMs  | key | value |
///  | u64   | u8 | u8 | u16  |  u32    |      u64      |      u64      |     |       |
///  +-------+----+----+------+---------+---------------+---------------+-----+-------+
/// ```
/// All integers little-endian. The checksum covers every byte after itself (rest of the
/// header, key and stored value), so a torn write, a zero-filled tail or a flipped bit anywhere
/// in the record is detected. `seq` orders records of one engine: recovery keeps, for each key,
/// the record with the highest seq, whatever file it sits in, which is what lets merge write
/// its output under any file id and lets a crash at any point of a merge be harmless.
/// `docs/storage-format.md` has the full format.
struct RecordHeader: Equatable {
    static let size = 32
    static let formatVersion: UInt8 = 1

    struct Flags: OptionSet, Equatable {
        let rawValue: UInt8
        /// The record deletes its key; it carries no value.
        static let tombstone = Flags(rawValue: 1 << 0)
        /// The value is an LZ4 block preceded by its raw length.
        static let lz4 = Flags(rawValue: 1 << 1)
        static let known: Flags = [.tombstone, .lz4]
    }

    var flags: Flags
    var keyLength: Int
    var valueLength: Int
    var seq: UInt64
    /// Absolute expiry in ms since 1970; 0 means the record never expires.
    var expiresAtMilliseconds: UInt64

    var recordSize: Int { RecordHeader.size + keyLength + valueLength }

    /// Writes the header (checksum left zero) at `pointer`.
    func write(to pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: UInt64(0), toByteOffset: 0, as: UInt64.self)
        pointer.storeBytes(of: RecordHeader.formatVersion, toByteOffset: 8, as: UInt8.self)
        pointer.storeBytes(of: flags.rawValue, toByteOffset: 9, as: UInt8.self)
        pointer.storeBytes(of: UInt16(keyLength).littleEndian, toByteOffset: 10, as: UInt16.self)
        pointer.storeBytes(of: UInt32(valueLength).littleEndian, toByteOffset: 12, as: UInt32.self)
        pointer.storeBytes(of: seq.littleEndian, toByteOffset: 16, as: UInt64.self)
        pointer.storeBytes(of: expiresAtMilliseconds.littleEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// Computes and stores the checksum of a complete record at `pointer`.
    static func seal(_ pointer: UnsafeMutableRawPointer, recordSize: Int) {
        let sum = XXH3.hash(UnsafeRawPointer(pointer + 8), count: recordSize - 8)
        pointer.storeBytes(of: sum.littleEndian, toByteOffset: 0, as: UInt64.self)
    }

    /// Parses the header at `pointer` without checking the checksum. Returns nil when the
    /// fields are impossible (unknown version or flags, empty key, a tombstone with a value).
    static func parse(_ pointer: UnsafeRawPointer) -> RecordHeader? {
        guard pointer.load(fromByteOffset: 8, as: UInt8.self) == formatVersion else { return nil }
        let flags = Flags(rawValue: pointer.load(fromByteOffset: 9, as: UInt8.self))
        guard flags.isSubset(of: .known) else { return nil }
        let keyLength = Int(UInt16(littleEndian: pointer.loadUnaligned(fromByteOffset: 10, as: UInt16.self)))
        let valueLength = Int(UInt32(littleEndian: pointer.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        guard keyLength > 0 else { return nil }
        if flags.contains(.tombstone) && valueLength != 0 { return nil }
        return RecordHeader(
            flags: flags, keyLength: keyLength, valueLength: valueLength,
            seq: UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            expiresAtMilliseconds: UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
    }

    /// True when the record of `recordSize` bytes at `pointer` matches its checksum.
    static func verify(_ pointer: UnsafeRawPointer, recordSize: Int) -> Bool {
        let stored = UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        return XXH3.hash(pointer + 8, count: recordSize - 8) == stored
    }

    /// Parses and verifies the record at `offset` of a region of `length` bytes; nil if it is
    /// not a whole, valid record.
    static func validRecord(at offset: Int, in base: UnsafeRawPointer, length: Int, maxKeyBytes: Int = Int(UInt16.max))
        -> RecordHeader?
    {
        guard offset >= 0, length - offset >= RecordHeader.size,
            let header = parse(base + offset), header.keyLength <= maxKeyBytes,
            header.recordSize <= length - offset,
            verify(base + offset, recordSize: header.recordSize)
        else { return nil }
        return header
    }
}
