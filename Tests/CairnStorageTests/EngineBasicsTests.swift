import Foundation
import Glibc
import Testing
@testable import CairnStorage

@Suite struct EngineBasicsTests {
    @Test func putGetDeleteOverwrite() throws {
        let dir = TempDirectory("basics")
        let clock = ManualStorageClock()
        let engine = try StorageEngine(directory: dir.path, options: testOptions(clock))
        #expect(try engine.get(bytes("a")) == nil)
        try engine.put(bytes("a"), bytes("1"))
        try engine.put(bytes("b"), bytes("2"))
        #expect(try engine.get(bytes("a")) == bytes("1"))
        try engine.put(bytes("a"), bytes("3"))
        #expect(try engine.get(bytes("a")) == bytes("3"))
        try engine.delete(bytes("a"))
        #expect(try engine.get(bytes("a")) == nil)
        #expect(try engine.get(bytes("b")) == bytes("2"))
        try engine.put(bytes("empty"), [])
        #expect(try engine.get(bytes("empty")) == [])
        let stats = engine.stats()
        #expect(stats.keys == 2)
        try engine.close()
        #expect(throws: StorageError.self) { try engine.get(bytes("b")) }
        let reopened = try StorageEngine(directory: dir.path, options: testOptions(clock))
        #expect(try reopened.get(bytes("a")) == nil)
        #expect(try reopened.get(bytes("b")) == bytes("2"))
        #expect(try reopened.get(bytes("empty")) == [])
    }

    @Test func compressibleValuesRoundTripAndAreStoredSmaller() throws {
        let dir = TempDirectory("lz4")
        let clock = ManualStorageClock()
        let engine = try StorageEngine(directory: dir.path, options: testOptions(clock, maxFileSizeBytes: 1 << 20))
        let value = [UInt8](repeating: 65, count: 10_000) + bytes("tail")
        try engine.put(bytes("big"), value)
        #expect(try engine.get(bytes("big")) == value)
        #expect(engine.stats().dataBytes < 1000, "a 10 KB run of one byte should compress")
        var random = [UInt8](repeating: 0, count: 5000)
        var rng = SeededRandom(seed: 1)
        for i in random.indices { random[i] = UInt8.random(in: 0...255, using: &rng) }
        let before = engine.stats().dataBytes
        try engine.put(bytes("random"), random)
        #expect(try engine.get(bytes("random")) == random)
        #expect(engine.stats().dataBytes - before == RecordHeader.size + 6 + random.count, "random bytes are stored raw")
        try engine.close()
        let reopened = try StorageEngine(directory: dir.path, options: testOptions(clock))
        #expect(try reopened.get(bytes("big")) == value)
        #expect(try reopened.get(bytes("random")) == random)
    }

    @Test func limitsGiveClearErrorsAndWriteNothing() throws {
        let dir = TempDirectory("limits")
        let clock = ManualStorageClock()
        var options = testOptions(clock)
        options.maxKeyBytes = 8
        options.maxValueBytes = 16
        let engine = try StorageEngine(directory: dir.path, options: options)
        func code(_ body: () throws -> Void) -> StorageError.Code? {
            do { try body() } catch let error as StorageError { return error.code } catch { return nil }
            return nil
        }
        #expect(code { try engine.put([], bytes("v")) } == .emptyKey)
        #expect(code { try engine.put(bytes("123456789"), bytes("v")) } == .keyTooLarge)
        #expect(code { try engine.put(bytes("k"), [UInt8](repeating: 1, count: 17)) } == .valueTooLarge)
        #expect(code { _ = try engine.get([]) } == .emptyKey)
        #expect(code { try engine.delete(bytes("123456789")) } == .keyTooLarge)
        #expect(code { try engine.put(bytes("k"), bytes("v"), ttlMilliseconds: 0) } == .invalidExpiry)
        #expect(code { try engine.put(bytes("k"), bytes("v"), expiresAtMilliseconds: UInt64.max) } == .invalidExpiry)
        #expect(code { try engine.put(bytes("k"), bytes("v"), ttlMilliseconds: UInt64.max) } == .invalidExpiry)
        // Exactly at the limits is fine.
        try engine.put(bytes("12345678"), [UInt8](repeating: 1, count: 16))
        #expect(engine.stats().keys == 1)
        #expect(engine.stats().dataBytes == RecordHeader.size + 8 + 16)
    }

    @Test func ttlExpiresExactlyByTheInjectedClock() throws {
        let dir = TempDirectory("ttl")
        let clock = ManualStorageClock(milliseconds: 1_000_000_500)
        let engine = try StorageEngine(directory: dir.path, options: testOptions(clock))
        try engine.put(bytes("t"), bytes("v"), ttlMilliseconds: 1_250)
        try engine.put(bytes("keep"), bytes("v"))
        clock.advance(milliseconds: 1_249)
        #expect(try engine.get(bytes("t")) == bytes("v"))
        #expect(try engine.scan(prefix: [], limit: 10) == [bytes("keep"), bytes("t")])
        clock.advance(milliseconds: 1)
        #expect(try engine.get(bytes("t")) == nil)
        #expect(try engine.scan(prefix: [], limit: 10) == [bytes("keep")])
        // Survives reopen as expired, and merge drops it for good.
        try engine.close()
        let reopened = try StorageEngine(directory: dir.path, options: testOptions(clock))
        #expect(try reopened.get(bytes("t")) == nil)
        try reopened.put(bytes("t2"), bytes("v"), ttlMilliseconds: 10)
        try reopened.put(bytes("t3"), bytes("fresh"), ttlMilliseconds: 100_000)
        clock.advance(milliseconds: 20)
        #expect(try reopened.get(bytes("t2")) == nil)
        #expect(try reopened.get(bytes("t3")) == bytes("fresh"))
        // A put without TTL clears an earlier TTL.
        try reopened.put(bytes("t3"), bytes("forever"))
        clock.advance(milliseconds: 1_000_000)
        #expect(try reopened.get(bytes("t3")) == bytes("forever"))
    }

    @Test func scanIsOrderedPagedAndPrefixed() throws {
        let dir = TempDirectory("scan")
        let clock = ManualStorageClock()
        let engine = try StorageEngine(directory: dir.path, options: testOptions(clock))
        for i in 0..<50 { try engine.put(bytes("user:\(String(i).leftPadded(to: 3))"), bytes("\(i)")) }
        for i in 0..<10 { try engine.put(bytes("item:\(i)"), bytes("x")) }
        try engine.put(bytes("user"), bytes("bare"))
        try engine.put(bytes("v"), bytes("after"))
        try engine.delete(bytes("user:007"))
        let page1 = try engine.scan(prefix: bytes("user:"), limit: 20)
        #expect(page1.count == 20)
        #expect(page1.first == bytes("user:000"))
        #expect(!page1.contains(bytes("user:007")))
        let page2 = try engine.scan(prefix: bytes("user:"), after: page1.last, limit: 100)
        #expect(page2.count == 29)
        #expect(page2.first == bytes("user:021"))
        #expect(page2.last == bytes("user:049"))
        #expect(try engine.scan(prefix: bytes("item:"), limit: 100).count == 10)
        #expect(try engine.scan(prefix: bytes("zzz"), limit: 100).isEmpty)
        #expect(try engine.scan(prefix: bytes("user:"), after: bytes("a"), limit: 1) == [bytes("user:000")])
        #expect(try engine.scan(prefix: bytes("user:"), after: bytes("user:049"), limit: 10).isEmpty)
        #expect(try engine.scan(prefix: [], limit: 1000).count == 61)
    }

    @Test func anotherEngineOnTheSameDirectoryIsRefused() throws {
        let dir = TempDirectory("lock")
        let engine = try StorageEngine(directory: dir.path, options: testOptions(ManualStorageClock()))
        #expect { _ = try StorageEngine(directory: dir.path) } throws: { ($0 as? StorageError)?.code == .locked }
        try engine.close()
        let again = try StorageEngine(directory: dir.path)
        try again.close()
    }

    @Test func manyEnginesShareABoundedDescriptorPool() throws {
        let runtime = StorageRuntime(maxOpenFiles: 8)
        let dir = TempDirectory("pool")
        var engines: [StorageEngine] = []
        for i in 0..<40 {
            var options = testOptions(ManualStorageClock(), durability: .always, maxFileSizeBytes: 4096)
            options.runtime = runtime
            engines.append(try StorageEngine(directory: dir.path + "/p\(i)", options: options))
        }
        func value(_ i: Int) -> [UInt8] {
            var rng = SeededRandom(seed: UInt64(i))
            return (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        for round in 0..<30 {
            for (i, engine) in engines.enumerated() {
                try engine.put(bytes("k\(round)"), value(i))
                #expect(runtime.openDescriptors <= 8)
            }
        }
        for (i, engine) in engines.enumerated() {
            #expect(try engine.get(bytes("k29")) == value(i))
            #expect(engine.stats().files.count > 1, "files rolled over")
            try engine.close()
        }
        #expect(runtime.openDescriptors == 0)
    }
}

@Suite struct ExpiryMergeTests {
    @Test func filesFullOfExpiredValuesQualifyForMerge() throws {
        let dir = TempDirectory("ttl-merge")
        let clock = ManualStorageClock()
        var options = testOptions(clock, maxFileSizeBytes: 4096)
        options.mergeDeadFraction = 0.5
        let engine = try StorageEngine(directory: dir.path, options: options)
        for i in 0..<200 { try engine.put(bytes("session-\(i)"), [UInt8](repeating: UInt8(i), count: 100), ttlMilliseconds: 60_000) }
        try engine.put(bytes("permanent"), bytes("stays"))
        #expect(try engine.merge().inputFiles == 0, "nothing is dead yet")
        clock.advance(milliseconds: 61_000)
        let report = try engine.merge()
        #expect(report.inputFiles > 0)
        #expect(report.recordsCopied == 0)
        let left = engine.stats().keys
        #expect(left < 100, "expired keys of merged files leave the keydir (\(left) left, the active file's)")
        try engine.merge(force: true)
        #expect(engine.stats().keys == 1)
        #expect(try engine.get(bytes("permanent")) == bytes("stays"))
        #expect(try engine.get(bytes("session-7")) == nil)
    }
}

/// What the engine leaves on disk is its owner's alone, and a file it did not write is refused
/// rather than trusted.
@Suite struct StorageHygieneTests {
    @Test func filesAre0600AndDirectories0700() throws {
        let dir = TempDirectory("hygiene")
        let nested = dir.path + "/a/b"
        let engine = try StorageEngine(directory: nested, options: testOptions(ManualStorageClock()))
        try engine.put(bytes("k"), bytes("v"))
        try engine.close()
        for directory in [dir.path + "/a", nested] {
            var info = stat()
            #expect(stat(directory, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o700, "\(directory): \(String(info.st_mode & 0o777, radix: 8))")
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: nested) {
            var info = stat()
            #expect(stat(nested + "/" + name, &info) == 0)
            #expect(info.st_mode & 0o077 == 0, "\(name) is open to others: \(String(info.st_mode & 0o777, radix: 8))")
        }
    }

    /// Offsets are 32-bit: a data file past 4 GiB is not this format's, and opening refuses it
    /// with an error instead of trapping (a sparse file, so the test writes nothing).
    @Test func aDataFilePastTheFormatLimitIsAnErrorNotACrash() throws {
        let dir = TempDirectory("oversize")
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let path = dir.path + "/0000000001.data"
        let fd = open(path, O_RDWR | O_CREAT, 0o600)
        #expect(fd >= 0)
        #expect(ftruncate(fd, off_t(UInt32.max) + 1) == 0)
        close(fd)
        #expect {
            try StorageEngine(directory: dir.path, options: testOptions(ManualStorageClock()))
        } throws: { ($0 as? StorageError)?.code == .corruptRecord }
    }
}
