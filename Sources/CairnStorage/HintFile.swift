#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hint files: for each data file, the keydir facts of its records without the values, so an
/// engine opens by reading a few bytes per key instead of every value.
///
/// ```
///  "CAIRNHT1" | dataFileLength u64
///  entry*:  offset u32 | size u32 | seq u64 | expiresAtMs u64 | flags u8 | 0 u8 | keyLen u16 | key
///  trailer: entryCount u64 | xxh3 u64 (over every byte before it)
/// ```
/// A hint file is trusted only whole: wrong magic, a length that does not match its data file,
/// or a bad checksum and the engine scans the data file instead.
enum HintFile {
    static let magic = Array("CAIRNHT1".utf8)
    static let entryHeaderBytes = 28

    struct Entry {
        var offset: Int
        var size: Int
        var seq: UInt64
        var expiresAtMilliseconds: UInt64
        var isTombstone: Bool
        var key: UnsafeRawBufferPointer
    }

    /// Accumulates the hint bytes of one data file as its records are written.
    struct Builder {
        private(set) var bytes: [UInt8]
        private var count: UInt64 = 0

        init() {
            bytes = HintFile.magic
            bytes.reserveCapacity(4096)
            Builder.append(UInt64(0), to: &bytes)  // the data file's length, filled in by `finish`
        }

        mutating func add(offset: Int, header: RecordHeader, key: UnsafeRawBufferPointer) {
            Builder.append(UInt32(offset), to: &bytes)
            Builder.append(UInt32(header.recordSize), to: &bytes)
            Builder.append(header.seq, to: &bytes)
            Builder.append(header.expiresAtMilliseconds, to: &bytes)
            bytes.append(header.flags.contains(.tombstone) ? 1 : 0)
            bytes.append(0)
            Builder.append(UInt16(key.count), to: &bytes)
            bytes.append(contentsOf: key)
            count += 1
        }

        /// The finished file for a data file of `dataFileLength` bytes.
        mutating func finish(dataFileLength: Int) -> [UInt8] {
            var out = bytes
            out.withUnsafeMutableBytes {
                $0.storeBytes(of: UInt64(dataFileLength).littleEndian, toByteOffset: 8, as: UInt64.self)
            }
            Builder.append(count, to: &out)
            let sum = out.withUnsafeBytes { XXH3.hash($0) }
            Builder.append(sum, to: &out)
            return out
        }

        static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
    }

    /// The entry count a hint file's trailer claims (0 if unreadable); a sizing hint only.
    static func entryCount(path: String) -> Int {
        guard let size = FileIO.fileSize(path: path), size >= 32,
            let fd = try? FileIO.open(path, O_RDONLY)
        else { return 0 }
        defer { close(fd) }
        var count: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &count) { pread(fd, $0.baseAddress, 8, off_t(size - 16)) }
        // A damaged trailer must not size anything: no file holds more entries than fit in it.
        let most = UInt64((size - 32) / (entryHeaderBytes + 1))
        return n == 8 ? Int(min(UInt64(littleEndian: count), most)) : 0
    }

    /// Validates a hint file's bytes for a data file of `dataFileLength` bytes and calls `body`
    /// for each entry. Returns false (having called `body` for nothing) when the file is not
    /// whole and valid.
    static func read(_ bytes: [UInt8], dataFileLength: Int, _ body: (Entry) -> Void) -> Bool {
        bytes.withUnsafeBytes { raw -> Bool in
            let n = raw.count
            guard n >= 32, raw.prefix(8).elementsEqual(magic) else { return false }
            let stored = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
            guard XXH3.hash(UnsafeRawBufferPointer(rebasing: raw[0..<(n - 8)])) == stored else { return false }
            guard UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) == UInt64(dataFileLength)
            else { return false }
            let expected = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self))
            // The first pass validates every entry so a bad file is rejected before anything is
            // used; the second hands them out.
            let end = n - 16
            var count: UInt64 = 0
            for pass in 0..<2 {
            var at = 16
            while at < end {
                guard end - at >= entryHeaderBytes else { return false }
                let keyLength = Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at + 26, as: UInt16.self)))
                guard keyLength > 0, keyLength <= Keydir.maxKeyBytes, end - at - entryHeaderBytes >= keyLength else { return false }
                let entry = Entry(
                    offset: Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))),
                    size: Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self))),
                    seq: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)),
                    expiresAtMilliseconds: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self)),
                    isTombstone: raw[at + 24] & 1 != 0,
                    key: UnsafeRawBufferPointer(rebasing: raw[(at + entryHeaderBytes)..<(at + entryHeaderBytes + keyLength)]))
                guard entry.offset + entry.size <= dataFileLength, entry.size >= RecordHeader.size + keyLength else { return false }
                if pass == 0 { count += 1 } else { body(entry) }
                at += entryHeaderBytes + keyLength
            }
            if pass == 0 && count != expected { return false }
            }
            return true
        }
    }
}
