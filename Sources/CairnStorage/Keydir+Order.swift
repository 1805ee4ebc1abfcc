#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The keydir's ordered index, for prefix scans: a sorted list of handles cut into chunks of at
/// most `chunkHandles` (128), the layout of Grant Jenks's SortedList. A chunk is found by
/// binary search on the first key of each chunk, a position by binary search inside it; an
/// insert moves at most one chunk's handles, and a full chunk splits in two.
extension Keydir {
    /// Byte-wise key order (shorter first on a shared prefix), as memcmp gives it.
    @inline(__always)
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    /// The first 8 bytes of `key` as a big-endian integer, zero-padded: integer order of two
    /// prefixes agrees with byte order of the keys whenever the prefixes differ.
    @inline(__always)
    static func prefix(_ key: UnsafeRawBufferPointer) -> UInt64 {
        if key.count >= 8 { return UInt64(bigEndian: key.loadUnaligned(as: UInt64.self)) }
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(i < key.count ? key[i] : 0) }
        return value
    }

    @inline(__always)
    func refreshPrefix(_ c: Int) {
        orderChunks[c].firstPrefix = Keydir.prefix(key(orderChunks[c].handles[0]))
    }

    /// The last chunk whose first key is <= `key` (0 when `key` sorts before every chunk).
    @inline(__always)
    func chunkIndex(for key: UnsafeRawBufferPointer) -> Int {
        var low = 0, high = orderChunkCount - 1
        var answer = 0
        let wanted = Keydir.prefix(key)
        while low <= high {
            let mid = (low + high) >> 1
            let first = orderChunks[mid].firstPrefix
            let lessOrEqual = first != wanted ? first < wanted : Keydir.compare(self.key(orderChunks[mid].handles[0]), key) <= 0
            if lessOrEqual {
                answer = mid
                low = mid + 1
            } else {
                high = mid - 1
            }
        }
        return answer
    }

    /// First position in chunk `c` whose key is >= `key` (or > `key` when `strict`).
    @inline(__always)
    func position(in c: Int, of key: UnsafeRawBufferPointer, strict: Bool = false) -> Int {
        let chunk = orderChunks[c]
        var low = 0, high = chunk.count
        while low < high {
            let mid = (low + high) >> 1
            let cmp = Keydir.compare(self.key(chunk.handles[mid]), key)
            if cmp < 0 || (strict && cmp == 0) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    mutating func orderInsert(_ handle: UInt32) {
        let key = self.key(handle)
        if orderChunkCount == 0 {
            appendChunk(at: 0)
            orderChunks[0].handles[0] = handle
            orderChunks[0].count = 1
            refreshPrefix(0)
            return
        }
        let c = chunkIndex(for: key)
        let pos = position(in: c, of: key)
        let chunk = orderChunks[c]
        (chunk.handles + pos + 1).update(from: chunk.handles + pos, count: chunk.count - pos)
        chunk.handles[pos] = handle
        orderChunks[c].count += 1
        if pos == 0 { refreshPrefix(c) }
        if orderChunks[c].count == Keydir.chunkHandles { splitChunk(c) }
    }

    mutating func orderRemove(_ handle: UInt32) {
        let key = self.key(handle)
        let c = chunkIndex(for: key)
        let pos = position(in: c, of: key)
        let chunk = orderChunks[c]
        precondition(pos < chunk.count && chunk.handles[pos] == handle, "ordered index lost handle \(handle)")
        (chunk.handles + pos).update(from: chunk.handles + pos + 1, count: chunk.count - pos - 1)
        orderChunks[c].count -= 1
        if orderChunks[c].count == 0 {
            removeChunk(at: c)
            return
        }
        if pos == 0 { refreshPrefix(c) }
        if c + 1 < orderChunkCount,
            orderChunks[c].count + orderChunks[c + 1].count <= Keydir.chunkHandles / 2
        {
            // Join small neighbours so chunks stay at least a quarter full on average.
            let next = orderChunks[c + 1]
            (orderChunks[c].handles + orderChunks[c].count).update(from: next.handles, count: next.count)
            orderChunks[c].count += next.count
            removeChunk(at: c + 1)
        }
    }

    private mutating func appendChunk(at index: Int) {
        if orderChunkCount == orderChunkCapacity {
            let bigger = UnsafeMutablePointer<OrderChunk>.allocate(capacity: orderChunkCapacity * 2)
            bigger.moveInitialize(from: orderChunks, count: orderChunkCount)
            orderChunks.deallocate()
            orderChunks = bigger
            orderChunkCapacity *= 2
        }
        (orderChunks + index + 1).moveInitialize(from: orderChunks + index, count: orderChunkCount - index)
        (orderChunks + index).initialize(to: OrderChunk(handles: .allocate(capacity: Keydir.chunkHandles), count: 0))
        orderChunkCount += 1
    }

    private mutating func removeChunk(at index: Int) {
        orderChunks[index].handles.deallocate()
        (orderChunks + index).deinitialize(count: 1)
        (orderChunks + index).moveInitialize(from: orderChunks + index + 1, count: orderChunkCount - index - 1)
        orderChunkCount -= 1
    }

    private mutating func splitChunk(_ c: Int) {
        appendChunk(at: c + 1)
        let half = orderChunks[c].count / 2
        let moved = orderChunks[c].count - half
        orderChunks[c + 1].handles.update(from: orderChunks[c].handles + half, count: moved)
        orderChunks[c + 1].count = moved
        orderChunks[c].count = half
        refreshPrefix(c + 1)
    }

    /// Builds the ordered index from scratch (after a bulk load): sort every handle once by
    /// its key's 8-byte prefix with an LSD radix sort (no arena reads, passes where every key
    /// shares the byte are skipped), order runs of equal prefixes by full key, then fill chunks
    /// to three quarters.
    mutating func buildOrder() {
        for i in 0..<orderChunkCount { orderChunks[i].handles.deallocate() }
        orderChunkCount = 0
        orderDeferred = false
        let n = count
        var prefixes = [UInt64](repeating: 0, count: n)
        var handles = [UInt32](repeating: 0, count: n)
        var filled = 0
        forEachHandle { handle in
            prefixes[filled] = Keydir.prefix(key(handle))
            handles[filled] = handle
            filled += 1
        }
        Keydir.radixSort(&prefixes, &handles)
        // Equal prefixes: order by the whole key.
        var runStart = 0
        while runStart < n {
            var runEnd = runStart + 1
            while runEnd < n && prefixes[runEnd] == prefixes[runStart] { runEnd += 1 }
            if runEnd - runStart > 1 {
                handles[runStart..<runEnd].sort { Keydir.compare(key($0), key($1)) < 0 }
            }
            runStart = runEnd
        }
        let fill = Keydir.chunkHandles * 3 / 4
        var start = 0
        while start < n {
            let m = min(fill, n - start)
            appendChunk(at: orderChunkCount)
            let chunk = orderChunks[orderChunkCount - 1]
            for i in 0..<m { chunk.handles[i] = handles[start + i] }
            orderChunks[orderChunkCount - 1].count = m
            orderChunks[orderChunkCount - 1].firstPrefix = prefixes[start]
            start += m
        }
    }

    /// Sorts `keys` ascending, carrying `values` along (stable LSD radix sort, a byte a pass).
    static func radixSort(_ keys: inout [UInt64], _ values: inout [UInt32]) {
        let n = keys.count
        guard n > 1 else { return }
        var keysOut = [UInt64](repeating: 0, count: n)
        var valuesOut = [UInt32](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 256)
        for shift in stride(from: 0, to: 64, by: 8) {
            for i in 0..<256 { counts[i] = 0 }
            keys.withUnsafeBufferPointer { k in
                for i in 0..<n { counts[Int((k[i] >> UInt64(shift)) & 0xFF)] += 1 }
            }
            if counts.contains(n) { continue }  // every key has the same byte here
            var total = 0
            for i in 0..<256 {
                let c = counts[i]
                counts[i] = total
                total += c
            }
            keys.withUnsafeBufferPointer { k in
                values.withUnsafeBufferPointer { v in
                    keysOut.withUnsafeMutableBufferPointer { ko in
                        valuesOut.withUnsafeMutableBufferPointer { vo in
                            for i in 0..<n {
                                let bucket = Int((k[i] >> UInt64(shift)) & 0xFF)
                                let at = counts[bucket]
                                counts[bucket] = at + 1
                                ko[at] = k[i]
                                vo[at] = v[i]
                            }
                        }
                    }
                }
            }
            swap(&keys, &keysOut)
            swap(&values, &valuesOut)
        }
    }

    /// Walks keys in order starting at the first key >= `start` (> `start` when `strict`),
    /// until `body` returns false.
    func forEachOrdered(from start: UnsafeRawBufferPointer, strict: Bool, _ body: (UInt32) throws -> Bool) rethrows {
        precondition(!orderDeferred, "ordered walk while the ordered index is deferred")
        guard orderChunkCount > 0 else { return }
        var c = chunkIndex(for: start)
        var pos = position(in: c, of: start, strict: strict)
        while c < orderChunkCount {
            let chunk = orderChunks[c]
            while pos < chunk.count {
                if try !body(chunk.handles[pos]) { return }
                pos += 1
            }
            c += 1
            pos = 0
        }
    }
}
