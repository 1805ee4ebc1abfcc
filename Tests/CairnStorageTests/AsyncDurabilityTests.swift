import Testing
@testable import CairnStorage

/// The async write path: tasks suspend on group commit instead of parking threads.
@Suite struct AsyncDurabilityTests {
    @Test func concurrentTasksShareFsyncsAndEveryWriteLands() async throws {
        let dir = TempDirectory("async-group")
        let options = testOptions(ManualStorageClock(), durability: .always, maxFileSizeBytes: 64 << 10)
        let engine = try StorageEngine(directory: dir.path, options: options)
        let tasks = 32, perTask = 40
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for i in 0..<perTask { try await engine.put(bytes("t\(t)-\(i)"), bytes("v\(i)")) }
                    try await engine.delete(bytes("t\(t)-0"))
                }
            }
            try await group.waitForAll()
        }
        let rounds = engine.stats().groupCommitRounds
        #expect(rounds > 0 && rounds < tasks * (perTask + 1), "\(rounds) fsyncs for \(tasks * (perTask + 1)) writes")
        try engine.close()
        let reopened = try StorageEngine(directory: dir.path, options: options)
        #expect(reopened.stats().keys == tasks * (perTask - 1))
        #expect(try reopened.get(bytes("t7-39")) == bytes("v39"))
        #expect(try reopened.get(bytes("t7-0")) == nil)
    }

    @Test func threadsAndTasksWaitingTogetherAllFinish() async throws {
        let dir = TempDirectory("async-mixed")
        let options = testOptions(ManualStorageClock(), durability: .always, maxFileSizeBytes: 8 << 10)
        let engine = try StorageEngine(directory: dir.path, options: options)
        async let threads: Void = Task.detached {
            runThreads(6) { w in for i in 0..<40 { try! engine.put(bytes("thread\(w)-\(i)"), bytes("x")) } }
        }.value
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<12 {
                group.addTask { for i in 0..<40 { try await engine.put(bytes("task\(t)-\(i)"), bytes("y")) } }
            }
            try await group.waitForAll()
        }
        await threads
        #expect(engine.stats().keys == 6 * 40 + 12 * 40)
    }

    @Test func aFailedFsyncFailsSuspendedWriters() async throws {
        let dir = TempDirectory("async-eio")
        let engine = try StorageEngine(directory: dir.path, options: testOptions(ManualStorageClock(), durability: .always))
        try await engine.put(bytes("before"), bytes("ok"))
        SyncFaults.failSyncs(under: dir.path)
        defer { SyncFaults.stopFailing(under: dir.path) }
        let failures = await withTaskGroup(of: Int.self) { group in
            for t in 0..<10 {
                group.addTask {
                    do { try await engine.put(bytes("t\(t)"), bytes("x")) } catch { return 1 }
                    return 0
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 10)
        #expect(try engine.get(bytes("before")) == bytes("ok"))
    }
}
