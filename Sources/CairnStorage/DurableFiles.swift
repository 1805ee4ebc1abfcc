/// The file operations the node needs beside its engines (identity, membership state, leases),
/// with the same durability and error reporting as the engine's own files.
public enum DurableFiles {
    public static func makeDirectory(_ path: String) throws { try FileIO.makeDirectory(path) }

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
}
