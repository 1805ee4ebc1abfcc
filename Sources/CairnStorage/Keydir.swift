/// Where the newest record of a key lives, as the keydir holds it.
struct KeydirEntry: Equatable {
    var fileId: UInt32
    var offset: UInt32
    /// Whole record size in bytes (header, key, stored value).
    var size: UInt32
    /// Expiry rounded *up* to the second (0 = never); the exact ms sits in the record header.
    var expirySeconds: UInt32
    /// Only during recovery: the newest record is a tombstone (swept out when recovery ends).
    var isTombstone: Bool = false

    static func expirySeconds(ofMilliseconds ms: UInt64) -> UInt32 {
        ms == 0 ? 0 : UInt32(clamping: (ms + 999) / 1000)
    }

    /// Definitely expired at `nowMs`, judged from the rounded-up second alone.
    @inline(__always) func isSurelyExpired(nowMilliseconds nowMs: UInt64) -> Bool {
        expirySeconds != 0 && UInt64(expirySeconds) * 1000 <= nowMs
    }

    /// Possibly expired at `nowMs`: the exact expiry must be read from the record to decide.
    @inline(__always) func mayBeExpired(nowMilliseconds nowMs: UInt64) -> Bool {
        expirySeconds != 0 && (UInt64(expirySeconds) - 1) * 1000 < nowMs
    }
}

/// The in-memory index from key to the location of its newest record.
///
/// Built for memory first (the target is under 40 bytes per key beyond the key itself; Riak
/// documents 44.5 for Bitcask), then for speed:
///
/// ```
///  hash index (open addressing)        key arena (64 KiB chunks)        ordered index
///  tags  [u8]  ──┐                     ┌──────────────────────────┐     chunk table
///  slots [u32] ──┴── handle ─────────▶ │fileId|offset|size|expiry │ ◀── [u32 handles sorted
///                                      │keyLen|key bytes...       │      by key, ≤128/chunk]
///                                      └──────────────────────────┘
/// ```
/// Each key's bytes and location live once, in an arena entry named by a 32-bit handle
/// (offset / 4). Point lookups go through a linear-probing hash table whose one-byte tags (a
/// slice of the key's xxHash3) spare almost all key comparisons; ordered iteration for prefix
/// scans goes through a two-level sorted list of handles (Grant Jenks's SortedList layout:
/// chunks of at most 128 handles, found by binary search on the 8-byte prefixes of each chunk's first key). Freed
/// arena entries go to free lists by size class and are reused. The structure is not
/// thread-safe: the engine guards it with its lock.
struct Keydir: ~Copyable {
    // MARK: arena
    /// 64 KiB chunks: an engine holding few keys (a node has one engine per partition) pays
    /// little, and a chunk always fits the largest entry.
    static let chunkShift = 16
    static let chunkBytes = 1 << chunkShift
    static let entryHeaderBytes = 18
    static let maxKeyBytes = (1 << chunkShift) - 64
    var arenaChunks: UnsafeMutablePointer<UnsafeMutableRawPointer>
    var arenaChunkCapacity = 16
    var arenaChunkCount = 0
    /// Bump pointer over the arena, in bytes.
    var arenaUsedBytes = 0
    /// Free-list heads indexed by entry size / 4 (UInt32.max = empty).
    var freeHeads: [UInt32] = []
    var freeBytes = 0

    // MARK: hash index
    var tags: UnsafeMutablePointer<UInt8>
    var slots: UnsafeMutablePointer<UInt32>
    var slotCapacity: Int
    var slotsDeleted = 0

    // MARK: ordered index
    static let chunkHandles = 128
    var orderChunks: UnsafeMutablePointer<OrderChunk>
    var orderChunkCapacity = 16
    var orderChunkCount = 0
    /// While true (bulk loading at open), new keys skip the ordered index; `buildOrder()` sorts once.
    var orderDeferred = false

    // MARK: totals
    private(set) var count = 0
    private(set) var keyBytes = 0

    init() {
        arenaChunks = .allocate(capacity: arenaChunkCapacity)
        slotCapacity = 16
        tags = .allocate(capacity: slotCapacity)
        tags.initialize(repeating: 0, count: slotCapacity)
        slots = .allocate(capacity: slotCapacity)
        orderChunks = .allocate(capacity: orderChunkCapacity)
    }

    deinit {
        for i in 0..<arenaChunkCount { arenaChunks[i].deallocate() }
        arenaChunks.deallocate()
        tags.deallocate()
        slots.deallocate()
        for i in 0..<orderChunkCount { orderChunks[i].handles.deallocate() }
        orderChunks.deallocate()
    }

    /// Bytes the keydir has allocated: arena chunks, hash arrays, ordered chunks and tables.
    var memoryBytes: Int {
        arenaChunkCount * Keydir.chunkBytes + arenaChunkCapacity * 8
            + freeHeads.capacity * 4
            + slotCapacity * 5
            + orderChunkCount * (Keydir.chunkHandles * 4 + 16) + orderChunkCapacity * MemoryLayout<OrderChunk>.stride
    }

    // MARK: arena entries

    @inline(__always)
    static func entrySize(keyLength: Int) -> Int { (entryHeaderBytes + keyLength + 3) & ~3 }

    @inline(__always)
    func pointer(_ handle: UInt32) -> UnsafeMutableRawPointer {
        let byte = Int(handle) << 2
        return arenaChunks[byte >> Keydir.chunkShift] + (byte & (Keydir.chunkBytes - 1))
    }

    @inline(__always)
    func key(_ handle: UInt32) -> UnsafeRawBufferPointer {
        let p = pointer(handle)
        let length = Int(p.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
        return UnsafeRawBufferPointer(start: p + Keydir.entryHeaderBytes, count: length)
    }

    @inline(__always)
    func entry(_ handle: UInt32) -> KeydirEntry {
        let p = pointer(handle)
        let rawSize = p.load(fromByteOffset: 8, as: UInt32.self)
        return KeydirEntry(
            fileId: p.load(fromByteOffset: 0, as: UInt32.self),
            offset: p.load(fromByteOffset: 4, as: UInt32.self),
            size: rawSize & 0x7FFF_FFFF,
            expirySeconds: p.load(fromByteOffset: 12, as: UInt32.self),
            isTombstone: rawSize & 0x8000_0000 != 0)
    }

    @inline(__always)
    func setEntry(_ handle: UInt32, _ entry: KeydirEntry) {
        let p = pointer(handle)
        p.storeBytes(of: entry.fileId, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: entry.offset, toByteOffset: 4, as: UInt32.self)
        p.storeBytes(of: entry.size | (entry.isTombstone ? 0x8000_0000 : 0), toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: entry.expirySeconds, toByteOffset: 12, as: UInt32.self)
    }

    private mutating func allocateEntry(keyLength: Int) -> UInt32 {
        let size = Keydir.entrySize(keyLength: keyLength)
        let sizeClass = size >> 2
        if sizeClass < freeHeads.count, freeHeads[sizeClass] != UInt32.max {
            let handle = freeHeads[sizeClass]
            freeHeads[sizeClass] = pointer(handle).load(as: UInt32.self)
            freeBytes -= size
            return handle
        }
        var start = arenaUsedBytes
        let chunk = start >> Keydir.chunkShift
        if chunk >= arenaChunkCount || (start & (Keydir.chunkBytes - 1)) + size > Keydir.chunkBytes {
            // Start a new chunk; the tail of the previous one is left unused (at most one entry).
            if chunk < arenaChunkCount { start = arenaChunkCount << Keydir.chunkShift }
            precondition(start >> 2 < Int(UInt32.max) - Keydir.chunkBytes, "keydir arena full at \(start) bytes")
            if arenaChunkCount == arenaChunkCapacity {
                let bigger = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: arenaChunkCapacity * 2)
                bigger.moveInitialize(from: arenaChunks, count: arenaChunkCount)
                arenaChunks.deallocate()
                arenaChunks = bigger
                arenaChunkCapacity *= 2
            }
            arenaChunks[arenaChunkCount] = .allocate(byteCount: Keydir.chunkBytes, alignment: 8)
            arenaChunkCount += 1
        }
        arenaUsedBytes = start + size
        return UInt32(start >> 2)
    }

    private mutating func freeEntry(_ handle: UInt32) {
        let size = Keydir.entrySize(keyLength: key(handle).count)
        let sizeClass = size >> 2
        if sizeClass >= freeHeads.count {
            freeHeads.append(contentsOf: repeatElement(UInt32.max, count: sizeClass + 1 - freeHeads.count))
        }
        pointer(handle).storeBytes(of: freeHeads[sizeClass], as: UInt32.self)
        freeHeads[sizeClass] = handle
        freeBytes += size
    }

    // MARK: operations

    /// The handle of `key`, if present.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        let slot = probe(key, hash: hash)
        return tags[slot] >= 2 ? slots[slot] : nil
    }

    /// Inserts or replaces; returns the previous entry of the key, if any.
    @discardableResult
    mutating func upsert(_ key: UnsafeRawBufferPointer, hash: UInt64, _ entry: KeydirEntry) -> KeydirEntry? {
        let slot = probe(key, hash: hash)
        if tags[slot] >= 2 {
            let handle = slots[slot]
            let previous = self.entry(handle)
            setEntry(handle, entry)
            return previous
        }
        insert(key, hash: hash, entry, at: slot)
        return nil
    }

    /// Inserts `entry` if `key` is absent (returning nil); otherwise changes nothing and
    /// returns the key's handle. One probe, for recovery, which must compare before replacing.
    mutating func insertIfAbsent(_ key: UnsafeRawBufferPointer, hash: UInt64, _ entry: KeydirEntry) -> UInt32? {
        let slot = probe(key, hash: hash)
        if tags[slot] >= 2 { return slots[slot] }
        insert(key, hash: hash, entry, at: slot)
        return nil
    }

    /// Makes room for `count` keys without growing on the way (recovery knows the count from
    /// its hint files).
    mutating func reserve(_ count: Int) {
        var capacity = slotCapacity
        while count * 8 > capacity * 7 { capacity *= 2 }
        if capacity > slotCapacity { rehash(capacity: capacity) }
    }

    private mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt64, _ entry: KeydirEntry, at slot: Int) {
        let handle = allocateEntry(keyLength: key.count)
        let p = pointer(handle)
        p.storeBytes(of: UInt16(key.count), toByteOffset: 16, as: UInt16.self)
        (p + Keydir.entryHeaderBytes).copyMemory(from: key.baseAddress!, byteCount: key.count)
        setEntry(handle, entry)
        if tags[slot] == 1 { slotsDeleted -= 1 }
        tags[slot] = Keydir.tag(hash)
        slots[slot] = handle
        count += 1
        keyBytes += key.count
        if !orderDeferred { orderInsert(handle) }
        growIfNeeded()
    }

    /// Removes `key`; returns its entry, if it was present.
    @discardableResult
    mutating func remove(_ key: UnsafeRawBufferPointer, hash: UInt64) -> KeydirEntry? {
        let slot = probe(key, hash: hash)
        guard tags[slot] >= 2 else { return nil }
        let handle = slots[slot]
        let previous = entry(handle)
        tags[slot] = 1
        slotsDeleted += 1
        if !orderDeferred { orderRemove(handle) }
        count -= 1
        keyBytes -= key.count
        freeEntry(handle)
        return previous
    }

    /// Every live handle, in hash-table order (for sweeps and bulk work).
    func forEachHandle(_ body: (UInt32) throws -> Void) rethrows {
        for i in 0..<slotCapacity where tags[i] >= 2 { try body(slots[i]) }
    }
}

/// One chunk of the ordered index: handles sorted by key.
struct OrderChunk {
    var handles: UnsafeMutablePointer<UInt32>
    var count: Int
    /// The first 8 bytes of the chunk's first key, big-endian and zero-padded: the search for a
    /// chunk compares these and reads the arena only on a tie.
    var firstPrefix: UInt64 = 0
}
