/// A snapshot of an engine's state, for metrics, `cairn` output and benchmarks.
public struct StorageStats: Sendable, Equatable {
    public struct File: Sendable, Equatable {
        public var id: UInt32
        public var sizeBytes: Int
        public var liveBytes: Int
        public var deadBytes: Int
        public var isActive: Bool
        public var hasHint: Bool
    }

    /// Keys in the keydir (expired keys not yet merged away included).
    public var keys = 0
    /// Bytes of those keys.
    public var keyBytes = 0
    /// Memory the keydir has allocated (arena, hash table, ordered index).
    public var keydirBytes = 0
    public var files: [File] = []
    public var corruptRecordsSkipped = 0
    public var tornTailBytesTruncated = 0
    public var mergesRun = 0
    public var mergeBytesReclaimed = 0
    public var hintFilesLoaded = 0
    public var dataFilesScanned = 0
    public var badHintFiles = 0
    /// Group-commit fsync rounds (`.always`), and their mean fsync time and mean wait for
    /// followers, in microseconds.
    public var groupCommitRounds = 0
    public var groupCommitMeanSyncMicroseconds = 0.0
    public var groupCommitMeanGatherMicroseconds = 0.0
    /// How long the last open took, in milliseconds.
    public var openMilliseconds = 0.0

    public var dataBytes: Int { files.reduce(0) { $0 + $1.sizeBytes } }
    public var liveBytes: Int { files.reduce(0) { $0 + $1.liveBytes } }
    public var deadBytes: Int { files.reduce(0) { $0 + $1.deadBytes } }

    /// Keydir memory per key beyond the key's own bytes (the figure Riak quotes as 44.5).
    public var keydirBytesPerKeyBeyondKey: Double {
        keys == 0 ? 0 : Double(keydirBytes - keyBytes) / Double(keys)
    }
}

extension StorageEngine {
    public func stats() -> StorageStats {
        let totals = commit.totals
        return lock.withLock {
            var stats = StorageStats()
            stats.keys = keydir.count
            stats.keyBytes = keydir.keyBytes
            stats.keydirBytes = keydir.memoryBytes
            stats.files = files.values.sorted { $0.id < $1.id }.map {
                StorageStats.File(id: $0.id, sizeBytes: $0.length, liveBytes: $0.liveBytes, deadBytes: $0.deadBytes,
                    isActive: $0.isActive, hasHint: $0.hasHint)
            }
            stats.corruptRecordsSkipped = counters.corruptRecordsSkipped
            stats.tornTailBytesTruncated = counters.tornTailBytesTruncated
            stats.mergesRun = counters.mergesRun
            stats.mergeBytesReclaimed = counters.mergeBytesReclaimed
            stats.hintFilesLoaded = counters.hintFilesLoaded
            stats.dataFilesScanned = counters.dataFilesScanned
            stats.badHintFiles = counters.badHintFiles
            stats.groupCommitRounds = totals.rounds
            if totals.rounds > 0 {
                stats.groupCommitMeanSyncMicroseconds = Double(totals.sync) / Double(totals.rounds) / 1000
                stats.groupCommitMeanGatherMicroseconds = Double(totals.gather) / Double(totals.rounds) / 1000
            }
            stats.openMilliseconds = counters.openMilliseconds
            return stats
        }
    }
}
