/// The keydir's hash index: linear probing over a power-of-two table of handles, with a
/// parallel array of one-byte tags (0 empty, 1 deleted, 2...255 a slice of the key hash).
///
/// A probe reads tags, which sit 64 to a cache line, and compares a key only when the tag
/// matches, so a lookup usually costs one tag line, one slot and one arena entry.
extension Keydir {
    @inline(__always)
    static func tag(_ hash: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: 2 + (hash >> 56) % 254) }

    /// The slot holding `key`, or the slot where it should be inserted (the first deleted slot
    /// on the probe path, else the empty slot that ended it).
    @inline(__always)
    func probe(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Int {
        let mask = slotCapacity - 1
        let wanted = Keydir.tag(hash)
        var index = Int(truncatingIfNeeded: hash) & mask
        var firstDeleted = -1
        while true {
            let t = tags[index]
            if t == 0 { return firstDeleted >= 0 ? firstDeleted : index }
            if t == wanted {
                let stored = self.key(slots[index])
                if stored.count == key.count
                    && (key.count == 0 || memcmp(stored.baseAddress!, key.baseAddress!, key.count) == 0)
                {
                    return index
                }
            } else if t == 1 && firstDeleted < 0 {
                firstDeleted = index
            }
            index = (index + 1) & mask
        }
    }

    /// Keeps (live + deleted) slots at most 7/8 of the table: doubles when live entries pass
    /// half of it, otherwise rebuilds in place to clear deleted markers.
    mutating func growIfNeeded() {
        guard (count + slotsDeleted) * 8 > slotCapacity * 7 else { return }
        rehash(capacity: count * 2 > slotCapacity ? slotCapacity * 2 : slotCapacity)
    }

    mutating func rehash(capacity: Int) {
        let oldTags = tags, oldSlots = slots, oldCapacity = slotCapacity
        tags = .allocate(capacity: capacity)
        tags.initialize(repeating: 0, count: capacity)
        slots = .allocate(capacity: capacity)
        slotCapacity = capacity
        slotsDeleted = 0
        let mask = capacity - 1
        for i in 0..<oldCapacity where oldTags[i] >= 2 {
            let handle = oldSlots[i]
            let hash = XXH3.hash(self.key(handle))
            var index = Int(truncatingIfNeeded: hash) & mask
            while tags[index] != 0 { index = (index + 1) & mask }
            tags[index] = Keydir.tag(hash)
            slots[index] = handle
        }
        oldTags.deallocate()
        oldSlots.deallocate()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
