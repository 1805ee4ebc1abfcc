import Foundation

/// The scratch directory of one benchmark run: every workload gets a fresh subdirectory,
/// and everything is deleted when the run ends.
final class Workspace {
    let root: String
    private var counter = 0

    /// Creates `<parent>/cairn-bench-<pid>-<time>`; `parent` defaults to the system temp dir.
    init(parent: String?) throws {
        let base = parent ?? NSTemporaryDirectory()
        let name = "cairn-bench-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64(Date().timeIntervalSince1970))"
        root = (base as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// A new, empty directory path for one store (LMDB and RocksDB want it to exist).
    func fresh(_ label: String) throws -> String {
        counter += 1
        let path = (root as NSString).appendingPathComponent(String(format: "%03d-", counter) + label)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    func removeAll() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

func directoryEntries(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path)
}

/// Total size in bytes of the regular files directly inside `path`.
func directoryBytes(_ path: String) -> Int {
    guard let names = try? directoryEntries(path) else { return 0 }
    return names.reduce(0) { total, name in
        let attributes = try? FileManager.default.attributesOfItem(atPath: (path as NSString).appendingPathComponent(name))
        return total + ((attributes?[.size] as? NSNumber)?.intValue ?? 0)
    }
}

/// Drops the page-cache pages of every file directly inside `path` (after flushing them), so
/// the next open reads from disk as after a reboot: hint files only pay off when data is cold.
func evictFromPageCache(_ path: String) {
    guard let names = try? directoryEntries(path) else { return }
    for name in names {
        let fd = open((path as NSString).appendingPathComponent(name), O_RDONLY)
        guard fd >= 0 else { continue }
        fdatasync(fd)
        posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(fd)
    }
}
