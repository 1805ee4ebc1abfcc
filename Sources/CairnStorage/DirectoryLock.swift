#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps a data directory to one engine: an exclusive `flock` on `DIR/LOCK`, holding the pid.
///
/// The kernel drops a flock when its holder dies, however it dies, so a lock file left by a
/// dead process is simply taken over (its stale pid overwritten); a live holder, in this
/// process or another, makes `acquire` fail with `.locked` naming the holder's pid.
///
/// A process that forks (posix_spawn included) shares its open descriptions with the child
/// until the child execs, so a lock just released can look held for a moment; acquisition
/// therefore retries for `patienceMilliseconds` before reporting the directory locked.
final class DirectoryLock: @unchecked Sendable {
    let path: String
    private var fd: Int32

    init(directory: String, patienceMilliseconds: Int = 500) throws {
        path = directory + "/LOCK"
        fd = try FileIO.open(path, O_RDWR | O_CREAT)
        var waited = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK && waited < patienceMilliseconds {
            usleep(10_000)
            waited += 10
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            var holder = ""
            if let bytes = try? FileIO.readAll(path: path), !bytes.isEmpty {
                holder = " by pid " + String(decoding: bytes, as: UTF8.self).trimmingTrailingNewline
            }
            close(fd)
            throw StorageError(.locked, "data directory is locked\(holder)", path: path, errno: e)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        try pid.withUnsafeBytes { try FileIO.writeAll(fd, path, $0, at: 0) }
    }

    func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        close(fd)  // closing the descriptor drops the flock
        fd = -1
    }

    deinit { release() }
}

extension String {
    var trimmingTrailingNewline: String {
        var s = self
        while s.last == "\n" || s.last == "\r" { s.removeLast() }
        return s
    }
}
