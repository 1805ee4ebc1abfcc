#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the system calls the engine uses, turning failures into `StorageError`s
/// that name the file and the errno.
enum FileIO {
    static func error(_ what: String, _ path: String, code: StorageError.Code = .io) -> StorageError {
        let e = errno
        return StorageError(code, "\(what) failed: \(String(cString: strerror(e)))", path: path, errno: e)
    }

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw error("open", path) }
        }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func fileSize(_ fd: Int32, _ path: String) throws -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw error("fstat", path) }
        return Int(st.st_size)
    }

    static func fileSize(path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// fdatasync; a failure is reported once and never retried by the caller (after EIO the
    /// kernel may already have dropped the dirty pages, so a retry could "succeed" falsely).
    static func dataSync(_ fd: Int32, _ path: String) throws {
        if SyncFaults.shouldFail(path) {
            errno = EIO
            throw error("fdatasync", path, code: .syncFailed)
        }
        guard fdatasync(fd) == 0 else { throw error("fdatasync", path, code: .syncFailed) }
    }

    static func syncDirectory(_ path: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error("fsync(dir)", path, code: .syncFailed) }
    }

    static func truncate(_ fd: Int32, _ path: String, to size: Int) throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw error("ftruncate", path) }
    }

    /// Reserves real blocks (so a full disk is an error here, not a SIGBUS on a mapped write).
    static func allocate(_ fd: Int32, _ path: String, upTo size: Int) throws {
        let rc = posix_fallocate(fd, 0, off_t(size))
        guard rc == 0 else {
            errno = rc
            throw error("fallocate", path)
        }
    }

    static func writeAll(_ fd: Int32, _ path: String, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw error("pwrite", path)
            }
            done += n
        }
    }

    static func readAll(path: String) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        let size = try fileSize(fd, path)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < size {
                let n = pread(fd, buffer.baseAddress! + done, size - done, off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw error("pread", path)
                }
                if n == 0 { break }
                done += n
            }
        }
        if done < size { bytes.removeLast(size - done) }
        return bytes
    }

    /// Writes `bytes` to `path` atomically: a temporary file, fsync, rename, directory fsync.
    static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws {
        let tmp = path + ".tmp"
        let fd = try open(tmp, O_WRONLY | O_CREAT | O_TRUNC)
        do {
            try bytes.withUnsafeBytes { try writeAll(fd, tmp, $0, at: 0) }
            guard fsync(fd) == 0 else { throw error("fsync", tmp, code: .syncFailed) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        try rename(tmp, path)
        try syncDirectory(directory)
    }

    static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw error("rename to \(to)", from) }
    }

    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw error("unlink", path) }
    }

    /// Removes a directory of plain files (no subdirectories), then the directory itself.
    static func removeDirectory(_ path: String) throws {
        for name in try listDirectory(path) { try remove(path + "/" + name) }
        guard rmdir(path) == 0 || errno == ENOENT else { throw error("rmdir", path) }
    }

    static func makeDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST { throw error("mkdir", current) }
        }
    }

    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw error("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    static func roundUpToPage(_ n: Int) -> Int { (n + pageSize - 1) / pageSize * pageSize }
}

import Synchronization

/// Failure injection for tests: an fdatasync of a file under one of these directories fails
/// with EIO, as on a failing disk. Empty (and one uncontended check) in production.
enum SyncFaults {
    private static let failingDirectories = Mutex<Set<String>>([])
    /// Set exactly while some directory fails, so production pays one relaxed load.
    private static let armed = Atomic<Bool>(false)

    /// Makes every later fdatasync of a file under `directory` fail with EIO.
    static func failSyncs(under directory: String) {
        failingDirectories.withLock { dirs in
            dirs.insert(directory)
            armed.store(true, ordering: .relaxed)
        }
    }

    /// Lets fdatasync under `directory` succeed again.
    static func stopFailing(under directory: String) {
        failingDirectories.withLock { dirs in
            dirs.remove(directory)
            armed.store(!dirs.isEmpty, ordering: .relaxed)
        }
    }

    static func shouldFail(_ path: String) -> Bool {
        guard armed.load(ordering: .relaxed) else { return false }
        return failingDirectories.withLock { dirs in dirs.contains { path.hasPrefix($0 + "/") } }
    }
}
