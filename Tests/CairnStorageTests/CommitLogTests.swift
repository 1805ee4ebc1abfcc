import Logging
import Testing
@testable import CairnStorage

/// The node-wide commit log: what a crash leaves is read back in order, a checkpoint removes
/// only what the engines already hold, and concurrent writers share fsyncs.
@Suite struct CommitLogTests {
    let logger = Logger(label: "test.commitlog")

    func open(_ dir: TempDirectory, checkpointMilliseconds: UInt64 = 60_000) throws -> CommitLog {
        try CommitLog(directory: dir.path + "/log", maxKeyBytes: 64, maxValueBytes: 4096,
                      checkpointMilliseconds: checkpointMilliseconds, logger: logger)
    }

    @Test func entriesLeftByAStopAreReadBackInOrder() async throws {
        let dir = TempDirectory("log-order")
        let log = try open(dir)
        #expect(log.recovered.isEmpty)
        var written: [CommitLog.Entry] = []
        for i in 0..<300 {
            let entry: CommitLog.Entry = switch i % 7 {
            case 3: .delete(store: i % 5, key: bytes("k\(i - 1)"))
            case 6: .dropped(store: i % 5)
            default: .put(store: i % 5, key: bytes("k\(i)"), value: [UInt8](repeating: UInt8(i % 251), count: i))
            }
            try await log.append(entry).durable()
            written.append(entry)
        }
        try log.close(removingSegments: false)
        let reopened = try open(dir)
        #expect(reopened.recovered == written)
        try reopened.finishRecovery()
        #expect(reopened.recovered.isEmpty)
        // New entries continue the sequence; the recovered ones are gone once recovery finished.
        try await reopened.append(.put(store: 1, key: bytes("after"), value: bytes("v"))).durable()
        try reopened.close(removingSegments: false)
        #expect(try open(dir).recovered == [.put(store: 1, key: bytes("after"), value: bytes("v"))])
    }

    @Test func aCheckpointRemovesOnlyWhatTheEnginesHold() async throws {
        let dir = TempDirectory("log-checkpoint")
        let log = try open(dir)
        try await log.append(.put(store: 0, key: bytes("a"), value: bytes("1"))).durable()
        var synced = 0
        try log.checkpoint { synced += 1 }
        #expect(synced == 1, "a checkpoint with entries syncs the engines")
        try log.checkpoint { synced += 1 }
        #expect(synced == 1, "an empty log has nothing to checkpoint")
        try await log.append(.put(store: 0, key: bytes("b"), value: bytes("2"))).durable()
        // A failed sync keeps the sealed segment: its entry is still recovered.
        struct SyncFailed: Error {}
        #expect(throws: SyncFailed.self) { try log.checkpoint { throw SyncFailed() } }
        try await log.append(.put(store: 0, key: bytes("c"), value: bytes("3"))).durable()
        try log.close(removingSegments: false)
        #expect(try open(dir).recovered == [
            .put(store: 0, key: bytes("b"), value: bytes("2")), .put(store: 0, key: bytes("c"), value: bytes("3")),
        ])
    }

    @Test func theCheckpointThreadSealsAfterTheInterval() async throws {
        let dir = TempDirectory("log-thread")
        let log = try open(dir, checkpointMilliseconds: 50)
        let syncs = Counter()
        log.startCheckpoints { syncs.increment() }
        for round in 1...2 {
            // Let the thread fall asleep on an empty segment: the first entry must wake it.
            try await Task.sleep(for: .milliseconds(100))
            try await log.append(.put(store: 2, key: bytes("k\(round)"), value: bytes("v"))).durable()
            for _ in 0..<200 where syncs.value < round { try await Task.sleep(for: .milliseconds(10)) }
            #expect(syncs.value == round, "round \(round): \(syncs.value) checkpoints")
        }
        try log.close(removingSegments: false)
        #expect(try open(dir).recovered.isEmpty, "the checkpoint removed the sealed segment")
    }

    @Test func concurrentWritersShareFsyncs() async throws {
        let dir = TempDirectory("log-share")
        let log = try open(dir)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<32 {
                group.addTask {
                    for i in 0..<20 { try await log.append(.put(store: writer, key: bytes("k\(i)"), value: bytes("v"))).durable() }
                }
            }
            try await group.waitForAll()
        }
        let rounds = log.roundsOfActiveSegment
        #expect(rounds < 640, "640 writes from 32 writers took \(rounds) fsyncs")
        try log.close(removingSegments: true)
        #expect(try open(dir).recovered.isEmpty)
    }

    @Test func undecodableEntriesAreRefused() {
        #expect(CommitLog.decode([]) == nil)
        #expect(CommitLog.decode([9, 0, 0, 0, 0]) == nil)
        #expect(CommitLog.decode([1, 0, 0, 0, 0, 200, 0, 0, 0, 1]) == nil, "a key longer than the entry")
        #expect(CommitLog.decode([3, 1, 0, 0, 0, 7]) == nil, "trailing bytes after a drop")
        for entry: CommitLog.Entry in [.put(store: 7, key: [], value: []), .delete(store: 0, key: [1, 2]), .dropped(store: 65_535)] {
            #expect(CommitLog.decode(CommitLog.encode(entry)) == entry)
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = ConditionLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
