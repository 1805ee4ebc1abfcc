#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one merge did.
public struct MergeReport: Sendable, Equatable {
    public var inputFiles = 0
    public var outputFiles = 0
    public var bytesRead = 0
    public var bytesWritten = 0
    /// Input bytes minus output bytes: the disk space the merge gave back.
    public var bytesReclaimed: Int { bytesRead - bytesWritten }
    public var recordsCopied = 0
    public var tombstonesKept = 0
    public var recordsDropped = 0
    public var corruptRecordsSkipped = 0
}

/// Merge (compaction): rewrite the live records of immutable files into new files with hint
/// files, then retire the old files, while reads and writes go on.
///
/// Crash safety comes from two facts. Records keep their seq when copied, and recovery keeps
/// the highest seq per key whatever file it is in, so a copy is never mistaken for a newer
/// write. And the switch is a single atomic step: outputs are written as `*.merge` files and
/// fsynced, then a `MERGE` manifest naming inputs and outputs is renamed into place; only then
/// are outputs renamed and inputs deleted. Opening finishes a merge whose manifest exists and
/// deletes `*.merge` files otherwise, so a crash at any point leaves either the old files or
/// the new ones. A tombstone (or an expired value) is dropped only when no file outside the
/// merge can hold an older record of its key (every such file's smallest seq is larger); this
/// is what keeps deleted keys from coming back (basho/bitcask#82).
extension StorageEngine {
    static let manifestName = "MERGE"

    /// Merges immutable files whose dead fraction passes `mergeDeadFraction`. With `force`
    /// (an operator's "compact now"), first seals the active file, then merges every file.
    /// Returns what it did; a report with no inputs when nothing qualified or another merge is
    /// running.
    @discardableResult
    public func merge(force: Bool = false) throws -> MergeReport {
        // Snapshot the inputs and the smallest seq any other file may hold.
        let plan: (inputs: [DataFile], outsideMinSeq: UInt64, firstOutputId: UInt32)? = try lock.withLock {
            try checkUsable(writing: true)
            guard !isMerging else { return nil }
            if force && active.length > 0 { try rollOver() }
            let now = options.clock.nowMilliseconds()
            let inputs = files.values.filter { file in
                force ? (!file.isActive && file.length > 0) : wantsMerge(file, now: now)
            }.sorted { $0.id < $1.id }
            guard !inputs.isEmpty else { return nil }
            let inputIds = Set(inputs.map(\.id))
            var outsideMin = nextSeq
            for file in files.values where !inputIds.contains(file.id) { outsideMin = min(outsideMin, file.minSeq) }
            isMerging = true
            // Reserve ids for outputs (records are copied in input order, so outputs never
            // outnumber inputs by more than one; twice that is reserved to be safe).
            let first = nextFileId
            nextFileId += UInt32(2 * inputs.count + 2)
            return (inputs, outsideMin, first)
        }
        guard let plan else { return MergeReport() }
        defer {
            lock.withLock {
                isMerging = false
                lock.broadcast()
            }
        }
        return try runMerge(inputs: plan.inputs, outsideMinSeq: plan.outsideMinSeq, firstOutputId: plan.firstOutputId)
    }

    private struct Moved {
        var output: Int
        var newOffset: UInt32
        var oldFile: UInt32
        var oldOffset: UInt32
        /// An expired value written out as a tombstone: its keydir entry is removed, not moved.
        var expired: Bool
    }

    private func runMerge(inputs: [DataFile], outsideMinSeq: UInt64, firstOutputId: UInt32) throws -> MergeReport {
        var report = MergeReport()
        report.inputFiles = inputs.count
        let now = options.clock.nowMilliseconds()
        var writer = MergeWriter(directory: directory, firstId: firstOutputId, maxIds: 2 * inputs.count + 2,
            maxFileSizeBytes: options.maxFileSizeBytes)
        defer { writer.abandon() }
        var moved: [Moved] = []
        for input in inputs {
            guard let base = input.base else { continue }
            report.bytesRead += input.length
            let result = StorageEngine.scanRecords(base: UnsafeRawPointer(base), length: input.length) { offset, header in
                let record = UnsafeRawBufferPointer(start: base + offset, count: header.recordSize)
                let key = UnsafeRawBufferPointer(rebasing: record[RecordHeader.size..<(RecordHeader.size + header.keyLength)])
                let droppable = header.seq < outsideMinSeq
                if header.flags.contains(.tombstone) {
                    if droppable { report.recordsDropped += 1; return }
                    writer.append(record: record, header: header, key: key)
                    report.tombstonesKept += 1
                    return
                }
                let live = lock.withLock { () -> Bool in
                    guard let handle = keydir.find(key, hash: XXH3.hash(key)) else { return false }
                    let entry = keydir.entry(handle)
                    return entry.fileId == input.id && Int(entry.offset) == offset
                }
                guard live else { report.recordsDropped += 1; return }
                let expired = header.expiresAtMilliseconds != 0 && header.expiresAtMilliseconds <= now
                if expired {
                    // Keep the key's place in seq order with a tombstone unless nothing older can exist.
                    if !droppable {
                        writer.appendTombstone(header: header, key: key)
                        report.tombstonesKept += 1
                    } else {
                        report.recordsDropped += 1
                    }
                    moved.append(Moved(output: 0, newOffset: 0, oldFile: input.id, oldOffset: UInt32(offset), expired: true))
                    return
                }
                let (output, newOffset) = writer.append(record: record, header: header, key: key)
                moved.append(Moved(output: output, newOffset: UInt32(newOffset), oldFile: input.id,
                    oldOffset: UInt32(offset), expired: false))
                report.recordsCopied += 1
            }
            report.corruptRecordsSkipped += result.corruptRegions
        }
        try writer.finish()
        try failpoint(.afterOutputs)
        report.outputFiles = writer.outputs.count
        report.bytesWritten = writer.outputs.reduce(0) { $0 + $1.length }

        // Commit point: the manifest names what replaces what.
        let outputIds = writer.outputs.map(\.id)
        let inputIds = inputs.map(\.id)
        try writeManifest(inputs: inputIds, outputs: outputIds)
        try failpoint(.afterManifest)
        try completeMerge(inputs: inputIds, outputs: outputIds)

        // Swap the in-memory view: map the outputs, repoint keydir entries still at old places.
        var outputFiles: [DataFile] = []
        for output in writer.outputs {
            let file = try DataFile(id: output.id, path: directory + "/" + DataFile.name(id: output.id), length: output.length)
            file.hasHint = true
            file.minSeq = output.minSeq
            file.maxSeq = output.maxSeq
            outputFiles.append(file)
        }
        lock.withLock {
            for file in outputFiles { files[file.id] = file }
            for move in moved {
                let old = files[move.oldFile]!
                let p = UnsafeRawPointer(old.base! + Int(move.oldOffset))
                let keyLength = Int(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 10, as: UInt16.self)))
                let key = UnsafeRawBufferPointer(start: p + RecordHeader.size, count: keyLength)
                let hash = XXH3.hash(key)
                guard let handle = keydir.find(key, hash: hash) else { continue }
                var entry = keydir.entry(handle)
                guard entry.fileId == move.oldFile && entry.offset == move.oldOffset else { continue }
                if move.expired {
                    keydir.remove(key, hash: hash)
                    continue
                }
                entry.fileId = outputFiles[move.output].id
                entry.offset = move.newOffset
                keydir.setEntry(handle, entry)
                outputFiles[move.output].noteLive(size: Int(entry.size), expirySeconds: entry.expirySeconds)
            }
            for file in outputFiles { file.deadBytes = file.length - file.liveBytes }
            let retired = Set(inputIds)
            if report.corruptRecordsSkipped > 0 {
                // Keys whose newest record was corrupt could not be copied: forget them.
                var lost: [[UInt8]] = []
                keydir.forEachHandle { handle in
                    if retired.contains(keydir.entry(handle).fileId) { lost.append([UInt8](keydir.key(handle))) }
                }
                for key in lost { key.withUnsafeBytes { _ = keydir.remove($0, hash: XXH3.hash($0)) } }
                counters.corruptRecordsSkipped += report.corruptRecordsSkipped
            }
            for id in inputIds { files[id] = nil }
            filesWantingHints.removeAll { retired.contains($0) }
            counters.mergesRun += 1
            counters.mergeBytesReclaimed += report.bytesReclaimed
        }
        try FileIO.remove(directory + "/" + StorageEngine.manifestName)
        try FileIO.syncDirectory(directory)
        logger.info("merged", metadata: [
            "cairn.storage.inputs": "\(report.inputFiles)", "cairn.storage.outputs": "\(report.outputFiles)",
            "cairn.storage.reclaimed": "\(report.bytesReclaimed)",
        ])
        return report
    }

    private func writeManifest(inputs: [UInt32], outputs: [UInt32]) throws {
        var text = "cairn-merge 1\n"
        for id in inputs { text += "in \(id)\n" }
        for id in outputs { text += "out \(id)\n" }
        let sum = XXH3.hash(Array(text.utf8))
        text += "checksum \(sum)\n"
        try FileIO.writeAtomically(Array(text.utf8), to: directory + "/" + StorageEngine.manifestName, directory: directory)
    }

    /// Renames outputs into place and deletes inputs; idempotent, so opening can redo it.
    private func completeMerge(inputs: [UInt32], outputs: [UInt32]) throws {
        for id in outputs {
            for name in [DataFile.name(id: id), DataFile.hintName(id: id)] {
                let from = directory + "/" + name + ".merge"
                if FileIO.exists(from) { try FileIO.rename(from, directory + "/" + name) }
            }
        }
        try FileIO.syncDirectory(directory)
        try failpoint(.afterRename)
        for id in inputs {
            try FileIO.remove(directory + "/" + DataFile.name(id: id))
            try FileIO.remove(directory + "/" + DataFile.hintName(id: id))
            try failpoint(.afterFirstInputDeleted)
        }
        try FileIO.syncDirectory(directory)
    }

    /// At open: finish a merge whose manifest was committed, or throw away an unfinished one.
    func finishOrDiscardMerge() throws {
        let manifestPath = directory + "/" + StorageEngine.manifestName
        if FileIO.exists(manifestPath) {
            let text = String(decoding: try FileIO.readAll(path: manifestPath), as: UTF8.self)
            if let (inputs, outputs) = StorageEngine.parseManifest(text) {
                logger.info("finishing an interrupted merge", metadata: ["cairn.storage.inputs": "\(inputs)"])
                try completeMerge(inputs: inputs, outputs: outputs)
            }
            try FileIO.remove(manifestPath)
        }
        for name in try FileIO.listDirectory(directory) where name.hasSuffix(".merge") {
            try FileIO.remove(directory + "/" + name)
        }
    }

    static func parseManifest(_ text: String) -> (inputs: [UInt32], outputs: [UInt32])? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard let last = lines.popLast(), last.hasPrefix("checksum ") else { return nil }
        let body = lines.map { $0 + "\n" }.joined()
        guard let sum = UInt64(last.dropFirst("checksum ".count)), XXH3.hash(Array(body.utf8)) == sum,
            body.hasPrefix("cairn-merge 1\n")
        else { return nil }
        var inputs: [UInt32] = [], outputs: [UInt32] = []
        for line in body.split(separator: "\n").dropFirst() {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let id = UInt32(parts[1]) else { return nil }
            if parts[0] == "in" { inputs.append(id) } else if parts[0] == "out" { outputs.append(id) } else { return nil }
        }
        return (inputs, outputs)
    }

    func wantsMerge(_ file: DataFile, now: UInt64) -> Bool {
        file.wantsMerge(nowMilliseconds: now, deadFraction: options.mergeDeadFraction, minDeadBytes: options.mergeMinDeadBytes)
    }

    // MARK: failure injection

    /// Test seam: a merge stage at which `merge` stops as if the process died there (the files
    /// stay exactly as that stage left them; the test then abandons the engine and reopens).
    enum MergeFailpoint: Sendable {
        case afterOutputs, afterManifest, afterRename, afterFirstInputDeleted
    }

    private func failpoint(_ point: MergeFailpoint) throws {
        if lock.withLock({ mergeFailpoint == point }) {
            throw StorageError(.io, "simulated crash at merge stage \(point)")
        }
    }

    /// Test seam: stop as a killed process would: no truncation, no fsync, lock released.
    func simulateCrash() {
        let file: DataFile? = lock.withLock {
            isClosed = true
            return active
        }
        if let file { runtime.descriptors.evict(file) }
        commit.stop()
        directoryLock.release()
    }

    // MARK: background work

    /// Called by the runtime's merge thread: writes pending hint files, and merges when asked
    /// to consider it and some file qualifies.
    func backgroundMaintenance(considerMerge: Bool) {
        while let id = lock.withLock({ isClosed ? nil : filesWantingHints.popLast() }) {
            do { try writeHint(for: id) } catch {
                logger.warning("could not write hint file", metadata: ["cairn.storage.error": "\(error)"])
            }
        }
        guard considerMerge, options.backgroundMerge else { return }
        let now = options.clock.nowMilliseconds()
        let due = lock.withLock {
            !isClosed && failure == nil && files.values.contains { wantsMerge($0, now: now) }
        }
        if due {
            do { try merge() } catch {
                logger.warning("background merge failed", metadata: ["cairn.storage.error": "\(error)"])
            }
        }
    }

    /// Writes the hint file of an immutable data file from its records.
    func writeHint(for id: UInt32) throws {
        guard let file = lock.withLock({ files[id] }), !file.isActive, !file.hasHint, let base = file.base else { return }
        let length = lock.withLock { file.length }
        var builder = HintFile.Builder()
        _ = StorageEngine.scanRecords(base: UnsafeRawPointer(base), length: length) { offset, header in
            builder.add(offset: offset, header: header,
                key: UnsafeRawBufferPointer(start: base + offset + RecordHeader.size, count: header.keyLength))
        }
        let bytes = builder.finish(dataFileLength: length)
        let still = lock.withLock { files[id] === file }
        guard still else { return }
        try FileIO.writeAtomically(bytes, to: directory + "/" + DataFile.hintName(id: id), directory: directory)
        lock.withLock { file.hasHint = true }
    }
}

/// Writes merge output files (`ID.data.merge`, `ID.hint.merge`) through a user-space buffer.
struct MergeWriter: ~Copyable {
    struct Output {
        var id: UInt32
        var length = 0
        var minSeq = UInt64.max
        var maxSeq: UInt64 = 0
        var hint = HintFile.Builder()
    }

    let directory: String
    let firstId: UInt32
    let maxIds: Int
    let maxFileSizeBytes: Int
    private(set) var outputs: [Output] = []
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var flushed = 0
    private var error: StorageError?

    init(directory: String, firstId: UInt32, maxIds: Int, maxFileSizeBytes: Int) {
        self.directory = directory
        self.firstId = firstId
        self.maxIds = maxIds
        self.maxFileSizeBytes = maxFileSizeBytes
        buffer.reserveCapacity(1 << 20)
    }

    private func path(_ id: UInt32) -> String { directory + "/" + DataFile.name(id: id) + ".merge" }

    /// Appends a copy of a whole record; returns (output index, offset in it).
    @discardableResult
    mutating func append(record: UnsafeRawBufferPointer, header: RecordHeader, key: UnsafeRawBufferPointer) -> (Int, Int) {
        prepare(size: record.count)
        let offset = outputs[outputs.count - 1].length
        buffer.append(contentsOf: record)
        outputs[outputs.count - 1].length += record.count
        outputs[outputs.count - 1].minSeq = min(outputs[outputs.count - 1].minSeq, header.seq)
        outputs[outputs.count - 1].maxSeq = max(outputs[outputs.count - 1].maxSeq, header.seq)
        outputs[outputs.count - 1].hint.add(offset: offset, header: header, key: key)
        if buffer.count >= 1 << 20 { flush() }
        return (outputs.count - 1, offset)
    }

    /// Appends a tombstone with the seq of `header` (an expired value whose place must stay).
    mutating func appendTombstone(header: RecordHeader, key: UnsafeRawBufferPointer) {
        let tomb = RecordHeader(flags: .tombstone, keyLength: key.count, valueLength: 0, seq: header.seq, expiresAtMilliseconds: 0)
        var bytes = [UInt8](repeating: 0, count: tomb.recordSize)
        bytes.withUnsafeMutableBytes { raw in
            tomb.write(to: raw.baseAddress!)
            (raw.baseAddress! + RecordHeader.size).copyMemory(from: key.baseAddress!, byteCount: key.count)
            RecordHeader.seal(raw.baseAddress!, recordSize: tomb.recordSize)
        }
        _ = bytes.withUnsafeBytes { append(record: $0, header: tomb, key: key) }
    }

    private mutating func prepare(size: Int) {
        if let last = outputs.last, last.length + size <= maxFileSizeBytes || last.length == 0 { return }
        if !outputs.isEmpty { closeCurrent() }
        precondition(outputs.count < maxIds, "merge needs more than \(maxIds) output files")
        let id = firstId + UInt32(outputs.count)
        outputs.append(Output(id: id))
        do { fd = try FileIO.open(path(id), O_WRONLY | O_CREAT | O_TRUNC) } catch { record(error) }
        flushed = 0
    }

    private mutating func flush() {
        guard error == nil, fd >= 0, !buffer.isEmpty else { buffer.removeAll(keepingCapacity: true); return }
        let at = flushed
        let count = buffer.count
        do {
            try buffer.withUnsafeBytes { try FileIO.writeAll(fd, path(outputs[outputs.count - 1].id), $0, at: at) }
        } catch { record(error) }
        flushed += count
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func closeCurrent() {
        flush()
        guard fd >= 0 else { return }
        let id = outputs[outputs.count - 1].id
        do {
            try FileIO.dataSync(fd, path(id))
            let hintPath = directory + "/" + DataFile.hintName(id: id) + ".merge"
            let bytes = outputs[outputs.count - 1].hint.finish(dataFileLength: outputs[outputs.count - 1].length)
            outputs[outputs.count - 1].hint = HintFile.Builder()
            let hfd = try FileIO.open(hintPath, O_WRONLY | O_CREAT | O_TRUNC)
            defer { close(hfd) }
            try bytes.withUnsafeBytes { try FileIO.writeAll(hfd, hintPath, $0, at: 0) }
            try FileIO.dataSync(hfd, hintPath)
        } catch { record(error) }
        close(fd)
        fd = -1
    }

    private mutating func record(_ e: Error) {
        if error == nil { error = (e as? StorageError) ?? StorageError(.io, "\(e)") }
    }

    /// Flushes and fsyncs the last output and the directory; throws the first error seen.
    mutating func finish() throws {
        closeCurrent()
        if let error { throw error }
        try FileIO.syncDirectory(directory)
    }

    /// Closes a descriptor left open by an error. The `.merge` files of a failed merge stay
    /// until the next open removes them (they are never mistaken for data files).
    mutating func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
    }

    deinit { if fd >= 0 { close(fd) } }
}
