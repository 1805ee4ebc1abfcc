import Testing
@testable import CairnStorage

#if canImport(Glibc)
import Glibc
#endif

/// Torn tails, zero-filled tails, junk, flipped bytes, interrupted merges and killed writers.
@Suite struct CrashRecoveryTests {
    /// Writes `count` keys into one data file; returns the end offset of each key's record.
    func writeOneFile(_ dir: TempDirectory, count: Int, clock: ManualStorageClock) throws -> [Int] {
        let engine = try StorageEngine(directory: dir.path, options: testOptions(clock, maxFileSizeBytes: 1 << 20))
        var ends: [Int] = []
        for i in 0..<count {
            try engine.put(bytes("key-\(i)"), bytes("value-\(i)-") + [UInt8](repeating: UInt8(i % 200), count: i % 50))
            ends.append(engine.lock.withLock { engine.active.length })
        }
        try engine.close()
        return ends
    }

    @Test(arguments: 0..<12)
    func truncationAtAnyOffsetKeepsEveryWholeRecord(seed: Int) throws {
        let dir = TempDirectory("trunc")
        let clock = ManualStorageClock()
        let ends = try writeOneFile(dir, count: 200, clock: clock)
        var rng = SeededRandom(seed: UInt64(seed))
        let cut = Int.random(in: 0...ends.last!, using: &rng)
        let file = dir.files(suffix: ".data").last!
        try truncateFile(file, to: cut)
        let engine = try StorageEngine(directory: dir.path, options: testOptions(clock, maxFileSizeBytes: 1 << 20))
        for (i, end) in ends.enumerated() {
            let expected = end <= cut ? bytes("value-\(i)-") + [UInt8](repeating: UInt8(i % 200), count: i % 50) : nil
            #expect(try engine.get(bytes("key-\(i)")) == expected, "cut \(cut) key \(i)")
        }
        // Appends after the cut land after the last whole record and survive a reopen.
        try engine.put(bytes("after"), bytes("cut"))
        try engine.close()
        #expect(FileIO.fileSize(path: file)! == (ends.last { $0 <= cut } ?? 0) + RecordHeader.size + 5 + 3)
        let again = try StorageEngine(directory: dir.path, options: testOptions(clock, maxFileSizeBytes: 1 << 20))
        #expect(try again.get(bytes("after")) == bytes("cut"))
        #expect(again.stats().corruptRecordsSkipped == 0)
    }

    @Test func zeroFilledAndJunkTailsAreCutNotCounted() throws {
        for tail in [[UInt8](repeating: 0, count: 3 << 20), (0..<777).map { UInt8(truncatingIfNeeded: $0 &* 131) }] {
            let dir = TempDirectory("tail")
            let clock = ManualStorageClock()
            let ends = try writeOneFile(dir, count: 50, clock: clock)
            let file = dir.files(suffix: ".data").last!
            try appendToFile(file, tail)
            let engine = try StorageEngine(directory: dir.path, options: testOptions(clock, maxFileSizeBytes: 1 << 20))
            #expect(engine.stats().tornTailBytesTruncated == tail.count)
            #expect(engine.stats().corruptRecordsSkipped == 0)
            #expect(FileIO.fileSize(path: file) == ends.last)
            for i in 0..<50 { #expect(try engine.get(bytes("key-\(i)")) != nil) }
            try engine.close()
        }
    }

    @Test(arguments: [0, 1, 9, 11, 17, 30, 40])
    func aFlippedByteInsideAFileCostsOnlyThatRecord(byteInRecord: Int) throws {
        let dir = TempDirectory("flip")
        let clock = ManualStorageClock()
        let ends = try writeOneFile(dir, count: 100, clock: clock)
        let victim = 42
        let file = dir.files(suffix: ".data").last!
        let offset = ends[victim - 1] + byteInRecord
        let original = try FileIO.readAll(path: file)[offset]
        try patchFile(file, at: offset, with: [original ^ 0x5A])
        let engine = try StorageEngine(directory: dir.path, options: testOptions(clock, maxFileSizeBytes: 1 << 20))
        #expect(engine.stats().corruptRecordsSkipped == 1)
        #expect(try engine.get(bytes("key-\(victim)")) == nil)
        for i in 0..<100 where i != victim {
            #expect(try engine.get(bytes("key-\(i)")) == bytes("value-\(i)-") + [UInt8](repeating: UInt8(i % 200), count: i % 50))
        }
        // Merge rewrites the file without the bad record, and nothing else is lost.
        #expect(try engine.merge(force: true).recordsCopied == 99)
        try engine.close()
        let again = try StorageEngine(directory: dir.path, options: testOptions(clock, maxFileSizeBytes: 1 << 20))
        #expect(again.stats().keys == 99)
        #expect(again.stats().corruptRecordsSkipped == 0)
    }

    @Test func corruptionOfAnOpenFileIsAnErrorNeverData() throws {
        let dir = TempDirectory("live-flip")
        let clock = ManualStorageClock()
        _ = try writeOneFile(dir, count: 10, clock: clock)
        let engine = try StorageEngine(directory: dir.path, options: testOptions(clock, maxFileSizeBytes: 1 << 20))
        let file = dir.files(suffix: ".data").last!
        // Flip the last byte of key-0's value while the engine has the file mapped.
        let offset = RecordHeader.size + 5 + 7
        let original = try FileIO.readAll(path: file)[offset]
        try patchFile(file, at: offset, with: [original ^ 1])
        #expect { _ = try engine.get(bytes("key-0")) } throws: { ($0 as? StorageError)?.code == .corruptRecord }
        #expect(try engine.get(bytes("key-1")) == bytes("value-1-") + [1])
        #expect(engine.stats().corruptRecordsSkipped == 1)
    }

    @Test(arguments: [StorageEngine.MergeFailpoint.afterOutputs, .afterManifest, .afterRename, .afterFirstInputDeleted])
    func aCrashAtAnyMergeStageLosesNothingAndResurrectsNothing(point: StorageEngine.MergeFailpoint) throws {
        let dir = TempDirectory("merge-crash")
        let clock = ManualStorageClock()
        let options = testOptions(clock, maxFileSizeBytes: 4096)
        var engine = try StorageEngine(directory: dir.path, options: options)
        for round in 0..<3 {
            for i in 0..<60 { try engine.put(bytes("k\(i)"), bytes("r\(round)-") + [UInt8](repeating: UInt8(i), count: 40)) }
        }
        for i in stride(from: 0, to: 60, by: 3) { try engine.delete(bytes("k\(i)")) }
        try engine.put(bytes("ttl"), bytes("short"), ttlMilliseconds: 5)
        clock.advance(milliseconds: 10)
        for i in 0..<60 where i % 3 != 0 { try engine.put(bytes("k\(i)"), bytes("final-\(i)")) }
        let inputs = engine.stats().files.count
        #expect(inputs > 3)
        engine.lock.withLock { engine.mergeFailpoint = point }
        #expect(throws: StorageError.self) { try engine.merge(force: true) }
        engine.simulateCrash()
        engine = try StorageEngine(directory: dir.path, options: options)
        for i in 0..<60 {
            #expect(try engine.get(bytes("k\(i)")) == (i % 3 == 0 ? nil : bytes("final-\(i)")), "\(point) k\(i)")
        }
        #expect(try engine.get(bytes("ttl")) == nil)
        #expect(dir.files(suffix: ".merge").isEmpty && !FileIO.exists(dir.path + "/MERGE"))
        // A clean merge afterwards, then a reopen from hint files, still agrees.
        try engine.merge(force: true)
        try engine.close()
        engine = try StorageEngine(directory: dir.path, options: options)
        #expect(engine.stats().hintFilesLoaded > 0)
        for i in 0..<60 {
            #expect(try engine.get(bytes("k\(i)")) == (i % 3 == 0 ? nil : bytes("final-\(i)")), "\(point) k\(i) after merge")
        }
        #expect(try engine.scan(prefix: bytes("k"), limit: 100).count == 40)
    }

    @Test func everyAcknowledgedWriteSurvivesSIGKILLUnderAlways() throws {
        let dir = TempDirectory("kill")
        let child = try ChildProcess([probePath, "write", dir.path, "always", "1000000"])
        var acked = -1
        let target = 400 + Int.random(in: 0..<400)
        while acked < target, let line = child.readLine() {
            if line.hasPrefix("ack "), let i = Int(line.dropFirst(4)) { acked = i }
        }
        child.kill()
        child.wait()
        #expect(acked >= target, "the writer acknowledged \(acked) puts before the kill")
        let engine = try StorageEngine(directory: dir.path, options: testOptions(ManualStorageClock(), maxFileSizeBytes: 256 << 10))
        for i in 0...acked {
            let value = try engine.get(bytes("key-\(i)"))
            #expect(value == bytes("value-\(i)-") + [UInt8](repeating: UInt8(i % 251), count: 200), "acknowledged key-\(i) of \(acked)")
        }
        #expect(engine.stats().corruptRecordsSkipped == 0)
    }
}
