#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening an engine: finish or discard an interrupted merge, rebuild the keydir from hint
/// files where they are whole and from the data files elsewhere, cut torn tails, skip (and
/// count) corrupt records, then reopen or start the active file.
extension StorageEngine {
    static let formatName = "FORMAT"
    static let formatLine = "cairn-storage \(RecordHeader.formatVersion)\n"

    func recover() throws {
        let started = monotonicMilliseconds()
        try checkFormat()
        try finishOrDiscardMerge()
        var dataIds: [UInt32] = []
        var hintIds = Set<UInt32>()
        for name in try FileIO.listDirectory(directory) {
            if name.hasSuffix(".tmp") {
                try FileIO.remove(directory + "/" + name)
            } else if let id = StorageEngine.fileId(name, suffix: ".data") {
                dataIds.append(id)
            } else if let id = StorageEngine.fileId(name, suffix: ".hint") {
                hintIds.insert(id)
            }
        }
        dataIds.sort()
        keydir.orderDeferred = true
        // Size the hash table once from the hint files' entry counts (their trailers).
        keydir.reserve(hintIds.reduce(0) { $0 + HintFile.entryCount(path: directory + "/" + DataFile.hintName(id: $1)) })
        var maxSeq: UInt64 = 0
        for id in dataIds {
            let path = directory + "/" + DataFile.name(id: id)
            guard let size = FileIO.fileSize(path: path) else { throw FileIO.error("stat", path) }
            // Offsets in the keydir and hint files are 32-bit: a larger file is not one this
            // format wrote (a foreign or damaged file). Refuse it; do not guess.
            guard size <= Int(UInt32.max) else {
                throw StorageError(
                    .corruptRecord, "data file is \(size) bytes, past the format's limit of \(UInt32.max) (4 GiB); move it aside",
                    path: path)
            }
            let file = try DataFile(id: id, path: path, length: size)
            files[id] = file
            var loaded = false
            if hintIds.contains(id), let bytes = try? FileIO.readAll(path: directory + "/" + DataFile.hintName(id: id)) {
                loaded = HintFile.read(bytes, dataFileLength: size) { entry in
                    apply(file: file, offset: entry.offset, size: entry.size, seq: entry.seq,
                        expiresAtMilliseconds: entry.expiresAtMilliseconds, isTombstone: entry.isTombstone, key: entry.key)
                }
                if loaded {
                    counters.hintFilesLoaded += 1
                    file.hasHint = true
                } else {
                    counters.badHintFiles += 1
                    logger.warning("hint file unusable; scanning its data file", metadata: ["cairn.storage.file": "\(path)"])
                    try FileIO.remove(directory + "/" + DataFile.hintName(id: id))
                }
            }
            if !loaded {
                try scanDataFile(file)
            }
            if file.maxSeq > maxSeq { maxSeq = file.maxSeq }
        }
        // Tombstones were kept in the keydir only to order records across files.
        var tombstoned: [[UInt8]] = []
        keydir.forEachHandle { handle in
            if keydir.entry(handle).isTombstone { tombstoned.append([UInt8](keydir.key(handle))) }
        }
        for key in tombstoned { key.withUnsafeBytes { _ = keydir.remove($0, hash: XXH3.hash($0)) } }
        keydir.buildOrder()
        nextSeq = maxSeq + 1
        nextFileId = (dataIds.last ?? 0) + 1
        try openActiveFile(lastId: dataIds.last)
        counters.openMilliseconds = monotonicMilliseconds() - started
        logger.info("opened", metadata: [
            "cairn.storage.keys": "\(keydir.count)", "cairn.storage.files": "\(files.count)",
            "cairn.storage.hints": "\(counters.hintFilesLoaded)", "cairn.storage.corrupt": "\(counters.corruptRecordsSkipped)",
        ])
    }

    /// Refuses a directory written in a format this build does not know (rather than take its
    /// records for corruption and cut them), and marks new directories with ours.
    private func checkFormat() throws {
        let path = directory + "/" + StorageEngine.formatName
        guard FileIO.exists(path) else {
            try FileIO.writeAtomically(Array(StorageEngine.formatLine.utf8), to: path, directory: directory)
            return
        }
        let text = String(decoding: try FileIO.readAll(path: path), as: UTF8.self)
        guard text == StorageEngine.formatLine else {
            throw StorageError(.badDirectory,
                "directory is in storage format \(text.trimmingTrailingNewline.debugDescription); this build reads \(StorageEngine.formatLine.trimmingTrailingNewline.debugDescription)",
                path: path)
        }
    }

    static func fileId(_ name: String, suffix: String) -> UInt32? {
        guard name.hasSuffix(suffix) else { return nil }
        let digits = name.dropLast(suffix.count)
        guard digits.count == 10, digits.allSatisfy(\.isASCII) else { return nil }
        return UInt32(digits)
    }

    /// Reads every record of `file`, resynchronising past corrupt ones, and truncates a torn
    /// or zero-filled tail.
    private func scanDataFile(_ file: DataFile) throws {
        counters.dataFilesScanned += 1
        guard let base = file.base else { return }
        let result = StorageEngine.scanRecords(base: UnsafeRawPointer(base), length: file.length) { offset, header in
            let key = UnsafeRawBufferPointer(start: base + offset + RecordHeader.size, count: header.keyLength)
            apply(file: file, offset: offset, size: header.recordSize, seq: header.seq,
                expiresAtMilliseconds: header.expiresAtMilliseconds, isTombstone: header.flags.contains(.tombstone), key: key)
        }
        if result.corruptRegions > 0 {
            counters.corruptRecordsSkipped += result.corruptRegions
            logger.error("skipped corrupt records", metadata: [
                "cairn.storage.file": "\(file.path)", "cairn.storage.count": "\(result.corruptRegions)",
            ])
        }
        if result.validEnd < file.length {
            // A crash leaves the active file ending in reserved zeros or a torn record; the bytes
            // cut are reported (tornTailBytesTruncated) rather than counted as corrupt records.
            let cut = file.length - result.validEnd
            counters.tornTailBytesTruncated += cut
            logger.warning("truncating torn tail", metadata: [
                "cairn.storage.file": "\(file.path)", "cairn.storage.offset": "\(result.validEnd)", "cairn.storage.bytes": "\(cut)",
            ])
            let fd = try FileIO.open(file.path, O_RDWR)
            defer { Glibc.close(fd) }
            try FileIO.truncate(fd, file.path, to: result.validEnd)
            try FileIO.dataSync(fd, file.path)
            file.length = result.validEnd
            file.allocatedLength = result.validEnd
        }
    }

    /// Walks the records of a region. A record that fails to parse or verify starts a byte-wise
    /// search for the next valid one; if there is one, the bad stretch counts as one corrupt
    /// region, if there is none the bad stretch is a torn tail and `validEnd` marks where it
    /// starts.
    static func scanRecords(base: UnsafeRawPointer, length: Int, _ body: (Int, RecordHeader) -> Void)
        -> (validEnd: Int, corruptRegions: Int)
    {
        var at = 0, validEnd = 0, corrupt = 0
        while at < length {
            if let header = RecordHeader.validRecord(at: at, in: base, length: length, maxKeyBytes: Keydir.maxKeyBytes) {
                body(at, header)
                at += header.recordSize
                validEnd = at
                continue
            }
            var probe = at + 1
            var found = -1
            while probe + RecordHeader.size <= length {
                if base.load(fromByteOffset: probe + 8, as: UInt8.self) == RecordHeader.formatVersion,
                    RecordHeader.validRecord(at: probe, in: base, length: length, maxKeyBytes: Keydir.maxKeyBytes) != nil
                {
                    found = probe
                    break
                }
                probe += 1
            }
            if found < 0 { break }
            corrupt += 1
            at = found
        }
        return (validEnd, corrupt)
    }

    /// Folds one record into the keydir during recovery: the highest seq wins, whatever file
    /// order the records come in.
    private func apply(file: DataFile, offset: Int, size: Int, seq: UInt64, expiresAtMilliseconds: UInt64,
        isTombstone: Bool, key: UnsafeRawBufferPointer)
    {
        file.noteRecord(seq: seq)
        let hash = XXH3.hash(key)
        let entry = KeydirEntry(fileId: file.id, offset: UInt32(offset), size: UInt32(size),
            expirySeconds: KeydirEntry.expirySeconds(ofMilliseconds: expiresAtMilliseconds), isTombstone: isTombstone)
        if let handle = keydir.insertIfAbsent(key, hash: hash, entry) {
            let existing = keydir.entry(handle)
            if seqOfRecord(existing) >= seq {
                file.deadBytes += size
                return
            }
            if !existing.isTombstone { markDead(existing) }
            keydir.setEntry(handle, entry)
        }
        if isTombstone { file.deadBytes += size } else { file.noteLive(size: size, expirySeconds: entry.expirySeconds) }
    }

    private func seqOfRecord(_ entry: KeydirEntry) -> UInt64 {
        let base = files[entry.fileId]!.base!
        return UInt64(littleEndian: (base + Int(entry.offset)).loadUnaligned(fromByteOffset: 16, as: UInt64.self))
    }

    /// Reopens the newest data file for appending when it has room and no hint file (it was
    /// the active file when the engine stopped); otherwise starts a new one.
    private func openActiveFile(lastId: UInt32?) throws {
        if let lastId, let last = files[lastId], !last.hasHint, last.length + 4096 < options.maxFileSizeBytes {
            let fd = try FileIO.open(last.path, O_RDWR)
            defer { Glibc.close(fd) }
            let file = try DataFile(activeId: lastId, path: last.path, length: last.length,
                mappedLength: options.maxFileSizeBytes + options.maxRecordBytes, fd: fd)
            file.liveBytes = last.liveBytes
            file.deadBytes = last.deadBytes
            file.minSeq = last.minSeq
            file.maxSeq = last.maxSeq
            file.expiringBytes = last.expiringBytes
            file.latestExpirySeconds = last.latestExpirySeconds
            files[lastId] = file
            active = file
        } else {
            try startActiveFile()
        }
        if options.hintsOnRollover {
            filesWantingHints = files.values.filter { !$0.isActive && !$0.hasHint && $0.length > 0 }.map(\.id)
        }
    }

    func monotonicMilliseconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }
}
