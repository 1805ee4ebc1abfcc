import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One data file of an engine, memory-mapped.
///
/// Immutable files are mapped read-only at their size. The active file is mapped read-write
/// over `maxFileSizeBytes` plus one largest record, and records are appended by copying into
/// the mapping: no system call per write. Its blocks are reserved ahead with fallocate in
/// steps, so the file on disk may end in zeros after a crash (recovery truncates them).
/// Readers hold a strong reference while they read, so a file retired by merge stays mapped
/// until the last reader lets go (`deinit` unmaps).
final class DataFile: @unchecked Sendable {
    private static let serials = Atomic<UInt64>(0)
    /// Unique for the life of the process (the descriptor pool's key).
    let serial = DataFile.serials.add(1, ordering: .relaxed).newValue
    /// The pool that may hold a descriptor of this file, told when the file is freed.
    weak var pool: FileDescriptorPool?
    let id: UInt32
    let path: String
    let base: UnsafeMutableRawPointer?
    let mappedLength: Int
    /// The (device, inode) of the file mapped for appending: a pooled descriptor is used for
    /// fallocate, fdatasync and ftruncate only while it still refers to this very file.
    let identity: FileIdentity?

    // Guarded by the engine's lock (so exempt from Swift's dynamic exclusivity checks).
    /// Bytes of valid records (the write position of the active file).
    @exclusivity(unchecked) var length: Int
    /// Bytes reserved on disk ahead of `length` (active file only).
    @exclusivity(unchecked) var allocatedLength: Int
    @exclusivity(unchecked) var liveBytes = 0
    @exclusivity(unchecked) var deadBytes = 0
    @exclusivity(unchecked) var minSeq = UInt64.max
    @exclusivity(unchecked) var maxSeq: UInt64 = 0
    var isActive: Bool
    /// A hint file describes this file.
    var hasHint = false

    static func name(id: UInt32) -> String { String(id).leftPadded(to: 10) + ".data" }
    static func hintName(id: UInt32) -> String { String(id).leftPadded(to: 10) + ".hint" }

    /// Maps an existing file read-only.
    init(id: UInt32, path: String, length: Int) throws {
        self.id = id
        self.path = path
        self.length = length
        self.allocatedLength = length
        self.isActive = false
        mappedLength = length
        identity = nil
        if length == 0 {
            base = nil
            return
        }
        let fd = try FileIO.open(path, O_RDONLY)
        defer { close(fd) }
        let p = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw FileIO.error("mmap", path) }
        base = p
    }

    /// Maps a file read-write for appending, reserving `mappedLength` bytes of address space.
    init(activeId id: UInt32, path: String, length: Int, mappedLength: Int, fd: Int32) throws {
        self.id = id
        self.path = path
        self.length = length
        self.allocatedLength = length
        self.isActive = true
        self.mappedLength = FileIO.roundUpToPage(max(mappedLength, length))
        identity = FileIdentity(fd: fd)
        let p = mmap(nil, self.mappedLength, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw FileIO.error("mmap", path) }
        base = p
    }

    deinit {
        if let base { munmap(base, mappedLength) }
        pool?.evict(serial: serial)
    }

    func noteRecord(seq: UInt64) {
        if seq < minSeq { minSeq = seq }
        if seq > maxSeq { maxSeq = seq }
    }

    /// Live bytes of records that carry an expiry, and the latest of those expiries (seconds):
    /// once it has passed, all of them are dead, which lets TTL'd data trigger merges.
    @exclusivity(unchecked) var expiringBytes = 0
    @exclusivity(unchecked) var latestExpirySeconds: UInt32 = 0

    func noteLive(size: Int, expirySeconds: UInt32) {
        liveBytes += size
        if expirySeconds != 0 {
            expiringBytes += size
            latestExpirySeconds = max(latestExpirySeconds, expirySeconds)
        }
    }

    func noteDead(size: Int, expirySeconds: UInt32) {
        liveBytes -= size
        deadBytes += size
        if expirySeconds != 0 { expiringBytes -= size }
    }

    /// Dead bytes at `nowMilliseconds`, counting expiring bytes once all of them have expired.
    func deadBytes(nowMilliseconds now: UInt64) -> Int {
        let expired = expiringBytes > 0 && UInt64(latestExpirySeconds) * 1000 <= now
        return deadBytes + (expired ? expiringBytes : 0)
    }

    /// Whether merging this file is worth it at `now` under the given thresholds. A file
    /// smaller than `minDeadBytes` (a merge's output whose records died since) qualifies once
    /// all of it is dead, when dropping it costs nothing; without that, such files could never
    /// reach the threshold and would pile up under a steady churn.
    func wantsMerge(nowMilliseconds now: UInt64, deadFraction: Double, minDeadBytes: Int) -> Bool {
        guard !isActive, length > 0 else { return false }
        let dead = deadBytes(nowMilliseconds: now)
        let total = liveBytes + deadBytes
        return dead >= min(minDeadBytes, total) && total > 0 && Double(dead) / Double(total) >= deadFraction
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Which file a descriptor refers to, as the kernel knows it.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64

    init?(fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}
