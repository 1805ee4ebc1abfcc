import Dispatch
import Synchronization
import Testing
@testable import CairnStorage

#if canImport(Glibc)
import Glibc
#endif

@Suite struct DurabilityTests {
    @Test func concurrentWritersShareFsyncsUnderAlways() throws {
        let dir = TempDirectory("group")
        let engine = try StorageEngine(directory: dir.path, options: testOptions(ManualStorageClock(), durability: .always, maxFileSizeBytes: 1 << 20))
        let writers = 16, perWriter = 60
        runThreads(writers) { w in
            for i in 0..<perWriter { try! engine.put(bytes("w\(w)-\(i)"), bytes("v")) }
        }
        let rounds = engine.stats().groupCommitRounds
        #expect(rounds > 0)
        #expect(rounds < writers * perWriter, "\(rounds) fsync rounds for \(writers * perWriter) writes: no sharing")
        for w in 0..<writers { #expect(try engine.get(bytes("w\(w)-\(perWriter - 1)")) == bytes("v")) }
    }

    @Test func groupCommitSurvivesRolloversUnderManyWriters() throws {
        let dir = TempDirectory("group-roll")
        let options = testOptions(ManualStorageClock(), durability: .always, maxFileSizeBytes: 4096)
        let engine = try StorageEngine(directory: dir.path, options: options)
        runThreads(12) { w in
            for i in 0..<80 { try! engine.put(bytes("w\(w)-\(i)"), (0..<150).map { UInt8(truncatingIfNeeded: $0 &* w &+ i) }) }
        }
        #expect(engine.stats().files.count > 10)
        try engine.close()
        let reopened = try StorageEngine(directory: dir.path, options: options)
        #expect(reopened.stats().keys == 12 * 80)
    }

    @Test func aFailedGroupFsyncFailsEveryWaiterAndHangsNone() throws {
        let dir = TempDirectory("group-eio")
        let options = testOptions(ManualStorageClock(), durability: .always, maxFileSizeBytes: 1 << 20)
        let engine = try StorageEngine(directory: dir.path, options: options)
        try engine.put(bytes("before"), bytes("ok"))
        SyncFaults.failSyncs(under: dir.path)
        defer { SyncFaults.stopFailing(under: dir.path) }
        let failures = Mutex(0)
        runThreads(10) { w in
            for i in 0..<5 {
                do { try engine.put(bytes("w\(w)-\(i)"), bytes("x")) } catch { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 50, "no write may be acknowledged after the failed fsync")
        #expect(try engine.get(bytes("before")) == bytes("ok"))
    }

    @Test func afterAFailedFsyncNoWriteIsAcknowledgedAgain() throws {
        let dir = TempDirectory("eio")
        let options = testOptions(ManualStorageClock(), durability: .always, maxFileSizeBytes: 1 << 20)
        let engine = try StorageEngine(directory: dir.path, options: options)
        try engine.put(bytes("before"), bytes("ok"))
        SyncFaults.failSyncs(under: dir.path)
        #expect { try engine.put(bytes("during"), bytes("x")) } throws: { ($0 as? StorageError)?.code == .syncFailed }
        SyncFaults.stopFailing(under: dir.path)
        // The disk "recovers", but the engine must not retry fsync or acknowledge anything.
        #expect { try engine.put(bytes("after"), bytes("x")) } throws: { ($0 as? StorageError)?.code == .syncFailed }
        #expect { try engine.delete(bytes("before")) } throws: { ($0 as? StorageError)?.code == .syncFailed }
        #expect(try engine.get(bytes("before")) == bytes("ok"))
        try engine.close()
        let reopened = try StorageEngine(directory: dir.path, options: options)
        #expect(try reopened.get(bytes("before")) == bytes("ok"))
        try reopened.put(bytes("after"), bytes("fine"))
    }

    @Test func intervalPolicySyncsInTheBackground() throws {
        let dir = TempDirectory("interval")
        var options = testOptions(ManualStorageClock(), durability: .interval(milliseconds: 20))
        options.clock = .system
        let engine = try StorageEngine(directory: dir.path, options: options)
        for i in 0..<100 { try engine.put(bytes("k\(i)"), bytes("v")) }
        var synced = false
        for _ in 0..<500 where !synced {
            usleep(10_000)
            synced = engine.lock.withLock { engine.syncedTicket == engine.writeTicket }
        }
        #expect(synced, "the sync thread did not fsync within 5 s")
    }

    @Test func readersWritersAndMergeRunTogether() throws {
        let dir = TempDirectory("concurrent")
        var options = testOptions(ManualStorageClock(), maxFileSizeBytes: 16 << 10)
        options.mergeDeadFraction = 0.2
        let engine = try StorageEngine(directory: dir.path, options: options)
        let writers = 4, keysPerWriter = 50, rounds = 40
        let writersLeft = Atomic<Int>(writers)
        runThreads(writers * 2 + 1) { task in
            if task < writers {
                for round in 0..<rounds {
                    for k in 0..<keysPerWriter { try! engine.put(bytes("w\(task)-\(k)"), bytes("\(round)")) }
                    if round % 7 == 0 { try! engine.delete(bytes("w\(task)-0")) }
                }
                writersLeft.subtract(1, ordering: .releasing)
            } else if task < writers * 2 {
                // Values only move forward: a reader never sees a round older than one it saw.
                var seen = [Int](repeating: -1, count: keysPerWriter)
                let w = task - writers
                for _ in 0..<rounds * 5 {
                    for k in 1..<keysPerWriter {
                        if let v = try! engine.get(bytes("w\(w)-\(k)")), let round = Int(String(decoding: v, as: UTF8.self)) {
                            #expect(round >= seen[k])
                            seen[k] = round
                        }
                    }
                    _ = try! engine.scan(prefix: bytes("w\(w)-"), limit: 10)
                }
            } else {
                // Merge for as long as the writers write (however the scheduler orders the threads).
                var i = 0
                while writersLeft.load(ordering: .acquiring) > 0 || i < 2 {
                    if try! engine.merge(force: i % 4 == 0).inputFiles == 0 { usleep(1_000) }
                    i += 1
                }
            }
        }
        for w in 0..<writers {
            for k in 0..<keysPerWriter { #expect(try engine.get(bytes("w\(w)-\(k)")) == bytes("\(rounds - 1)")) }
        }
        #expect(engine.stats().mergesRun > 0)
        try engine.close()
        let reopened = try StorageEngine(directory: dir.path, options: options)
        #expect(reopened.stats().keys == writers * keysPerWriter)
    }
}
