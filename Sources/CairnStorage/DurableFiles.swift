import Glibc

/// The file operations the node needs beside its engines (identity, membership state, leases),
/// with the same durability and error reporting as the engine's own files.
public enum DurableFiles {
    public static func makeDirectory(_ path: String) throws { try FileIO.makeDirectory(path) }

    /// Makes `path` (a directory) accessible to its owner only (0700).
    public static func restrictToOwner(_ path: String) throws {
        guard chmod(path, 0o700) == 0 else { throw FileIO.error("chmod", path) }
    }

    public static func list(_ path: String) throws -> [String] { try FileIO.listDirectory(path) }

    public static func exists(_ path: String) -> Bool { FileIO.exists(path) }

    /// The whole file, or `nil` when it does not exist.
    public static func read(_ path: String) throws -> [UInt8]? {
        guard FileIO.exists(path) else { return nil }
        return try FileIO.readAll(path: path)
    }

    /// Replaces the file with `bytes`: written to a temporary file, fsynced, renamed over the
    /// old one, and the directory fsynced, so a crash leaves the old or the new file whole.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        try FileIO.writeAtomically(bytes, to: path, directory: directory.isEmpty ? "." : directory)
    }

    public static func remove(_ path: String) throws { try FileIO.remove(path) }

    /// Removes the file `path` and syncs its directory, so the removal survives a crash.
    public static func removeDurably(_ path: String) throws {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        try FileIO.remove(path)
        try FileIO.syncDirectory(directory.isEmpty ? "." : directory)
    }

    /// Removes the directory `path` (of plain files) durably: it is first renamed to
    /// `path + suffix` (atomic, and made durable), so a crash while its files are removed
    /// leaves a name `removeLeftovers` recognises, never a half-emptied directory under its
    /// old name.
    public static func removeDirectory(_ path: String, renamingWith suffix: String = ".removing") throws {
        let doomed = path + suffix
        if FileIO.exists(doomed) { try FileIO.removeDirectory(doomed) }
        try FileIO.rename(path, doomed)
        let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        try FileIO.syncDirectory(parent.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : parent)
        try FileIO.removeDirectory(doomed)
    }

    /// Finishes removals a crash interrupted: every entry of `directory` named with `suffix`.
    public static func removeLeftovers(in directory: String, suffix: String = ".removing") throws {
        for name in try FileIO.listDirectory(directory) where name.hasSuffix(suffix) {
            try FileIO.removeDirectory(directory + "/" + name)
        }
    }
}
