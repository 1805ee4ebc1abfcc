#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bounded, process-wide pool of open file descriptors shared by every engine.
///
/// Reads never need a descriptor (data files are memory-mapped and their descriptors closed
/// once mapped), so the pool holds only the descriptors of active files, which the write path
/// needs for fallocate, fdatasync and ftruncate. When the pool is full the least recently used
/// descriptor that no one is using is closed; its file is simply reopened on next use. A
/// node with hundreds of partitions therefore holds at most `capacity` such descriptors.
final class FileDescriptorPool: @unchecked Sendable {
    let capacity: Int
    private let lock = ConditionLock()
    // Guarded by `lock`.
    /// Keyed by `DataFile.serial`, never reused (an ObjectIdentifier can be, once the file is
    /// freed, and would hand a new file the descriptor of an old one).
    private var entries: [UInt64: Entry] = [:]
    private var clock: UInt64 = 0

    private struct Entry {
        var fd: Int32
        var lastUse: UInt64
        var users: Int
    }

    init(capacity: Int) {
        precondition(capacity > 0, "descriptor pool capacity \(capacity)")
        self.capacity = capacity
    }

    var openCount: Int { lock.withLock { entries.count } }
    /// Pooled descriptors found naming another file than theirs (and replaced).
    private(set) var hijacked = 0

    /// Runs `body` with a descriptor of `file`, opening it (read-write) when not pooled.
    func withDescriptor<T>(_ file: DataFile, _ body: (Int32) throws -> T) throws -> T {
        let id = file.serial
        let fd: Int32 = try lock.withLock {
            while true {
                clock += 1
                // Checked on every pass: while this thread waited, another may have opened it.
                if var entry = entries[id] {
                    // A descriptor closed behind the pool's back (a double close elsewhere in
                    // the process) may now name another file: never fallocate, sync or
                    // truncate through it. Forget it (the number is not ours to close) and reopen.
                    if let identity = file.identity, FileIdentity(fd: entry.fd) != identity {
                        entries[id] = nil
                        hijacked += 1
                        continue
                    }
                    entry.users += 1
                    entry.lastUse = clock
                    entries[id] = entry
                    return entry.fd
                }
                if entries.count < capacity {
                    let fd = try FileIO.open(file.path, O_RDWR)
                    if let identity = file.identity, FileIdentity(fd: fd) != identity {
                        close(fd)
                        throw FileIO.error("reopen (the path no longer names the mapped file)", file.path)
                    }
                    file.pool = self
                    entries[id] = Entry(fd: fd, lastUse: clock, users: 1)
                    return fd
                }
                // Evict the least recently used idle descriptor; if all are busy, wait.
                if let victim = entries.filter({ $0.value.users == 0 }).min(by: { $0.value.lastUse < $1.value.lastUse }) {
                    close(victim.value.fd)
                    entries[victim.key] = nil
                } else {
                    lock.wait(milliseconds: 10)
                }
            }
        }
        defer {
            lock.withLock {
                entries[id]?.users -= 1
                lock.broadcast()
            }
        }
        return try body(fd)
    }

    /// Closes the pooled descriptor of `file`, if any (when the file stops being written).
    func evict(_ file: DataFile) { evict(serial: file.serial) }

    /// Closes the pooled descriptor of the file with this serial, if any (also called when a
    /// `DataFile` is freed, so a retired file's inode is not kept open).
    func evict(serial id: UInt64) {
        lock.withLock {
            while let entry = entries[id], entry.users > 0 { lock.wait(milliseconds: 10) }
            if let entry = entries.removeValue(forKey: id) { close(entry.fd) }
        }
    }
}
