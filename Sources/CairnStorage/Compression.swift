import CLZ4

/// LZ4 block compression of values.
///
/// A value is stored compressed only when that saves at least an eighth of its size; short or
/// incompressible values are stored as they are, so random data costs one failed attempt and
/// no extra bytes. The stored form is `raw length (u32 LE) | LZ4 block`.
enum ValueCompression {
    /// Values shorter than this are never compressed: the 4-byte length prefix and LZ4's block
    /// overhead eat the gain.
    static let minimumBytes = 64

    /// Values at least this long are probed first: their first `probeBytes` are compressed on
    /// their own, and if that saves less than a sixteenth the value is stored raw without
    /// compressing the rest. Random data (encrypted, already compressed) then costs a quarter
    /// of a full attempt; compressible data pays about 10% more.
    static let probeFromBytes = 1024
    static let probeBytes = 256

    /// Compresses `value` when worthwhile; returns nil when it should be stored raw.
    static func compress(_ value: UnsafeRawBufferPointer) -> [UInt8]? {
        let count = value.count
        guard count >= minimumBytes, count <= Int(LZ4_MAX_INPUT_SIZE) else { return nil }
        if count >= probeFromBytes && !probeSaves(UnsafeRawBufferPointer(rebasing: value[0..<probeBytes])) { return nil }
        let limit = count - count / 8 - 4
        guard limit > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: 4 + limit)
        let written = out.withUnsafeMutableBytes { dst -> Int32 in
            dst.storeBytes(of: UInt32(count).littleEndian, toByteOffset: 0, as: UInt32.self)
            return LZ4_compress_default(
                value.baseAddress!.assumingMemoryBound(to: CChar.self),
                dst.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                Int32(count), Int32(limit))
        }
        guard written > 0 else { return nil }
        out.removeLast(limit - Int(written))
        return out
    }

    private static func probeSaves(_ sample: UnsafeRawBufferPointer) -> Bool {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: probeBytes) { scratch in
            let n = LZ4_compress_default(
                sample.baseAddress!.assumingMemoryBound(to: CChar.self), scratch.baseAddress!,
                Int32(sample.count), Int32(sample.count - sample.count / 16))
            return n > 0
        }
    }

    /// Decompresses a stored LZ4 value; nil when the block is malformed or its length is off.
    static func decompress(_ stored: UnsafeRawBufferPointer, maximumBytes: Int) -> [UInt8]? {
        guard stored.count >= 4 else { return nil }
        let rawCount = Int(UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        guard rawCount <= maximumBytes else { return nil }
        if rawCount == 0 { return [] }
        var ok = false
        let out = [UInt8](unsafeUninitializedCapacity: rawCount) { dst, initialized in
            let n = LZ4_decompress_safe(
                stored.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                UnsafeMutableRawPointer(dst.baseAddress!).assumingMemoryBound(to: CChar.self),
                Int32(stored.count - 4), Int32(rawCount))
            ok = (n == Int32(rawCount))
            initialized = ok ? rawCount : 0
        }
        return ok ? out : nil
    }
}
