/// The storage engine's public error: what went wrong, with the file, offset or limit involved.
///
/// Operating errors (bad input, corruption, a failed fsync, a full disk, a locked directory)
/// are values of this type and never crash the process.
public struct StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The key is empty.
        case emptyKey
        /// The key is longer than `StorageOptions.maxKeyBytes`.
        case keyTooLarge
        /// The value is longer than `StorageOptions.maxValueBytes`.
        case valueTooLarge
        /// The expiry time is not representable (before 1970 or past year 2106).
        case invalidExpiry
        /// Another process (or another engine in this process) holds the directory's lock.
        case locked
        /// A stored record failed its checksum or did not parse; it is never returned as data.
        case corruptRecord
        /// An fsync failed; the engine no longer acknowledges writes (fsync is never retried).
        case syncFailed
        /// A system call failed (open, write, mmap, rename, ...).
        case io
        /// The engine was closed.
        case closed
        /// The directory holds something the engine cannot use (bad file names, a future format).
        case badDirectory
    }

    public var code: Code
    public var message: String
    /// The file concerned, when there is one.
    public var path: String?
    /// The byte offset in `path`, when there is one.
    public var offset: Int?
    /// `errno` of the failed call, when there is one.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, path: String? = nil, offset: Int? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.errno = errno
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let path { text += " [\(path)" + (offset.map { " @\($0)" } ?? "") + "]" }
        if let errno { text += " (errno \(errno))" }
        return text
    }
}
