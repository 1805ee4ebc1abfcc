import CairnCore
import CairnNodeCore
import Testing

/// Client reads and writes on a single-node cluster (N = R = W = 1): when the answer may leave,
/// the per-key order of storage work, and the bound on requests in flight.
@Suite("Client path")
struct ClientPathTests {
    let a: [UInt8] = Array("apple".utf8)
    let b: [UInt8] = Array("banana".utf8)
    let c: [UInt8] = Array("cherry".utf8)

    @Test("a write is answered only after its storage write completed, and a read then finds it")
    func writeThenRead() throws {
        var node = CoreHarness.single()
        node.start()

        let started = node.write(1, key: a, value: [1, 2, 3])
        #expect(started.storageKinds == ["read"])
        #expect(!started.answersAClient)

        let coordinated = node.complete(try #require(started.operation("read")))
        #expect(coordinated.storageKinds == ["write"])
        #expect(!coordinated.answersAClient, "answered before the write is durable")

        let stored = node.complete(try #require(coordinated.operation("write")))
        #expect(stored.writeReplies.map(\.client) == [1])
        guard case .stored(let context)? = stored.writeReplies.first?.result else {
            Issue.record("write not stored: \(stored.writeReplies)")
            return
        }

        let reading = node.read(2, key: a)
        #expect(reading.storageKinds == ["read"])
        #expect(!reading.answersAClient)
        let answered = node.complete(try #require(reading.operation("read")))
        #expect(answered.readReplies.map(\.client) == [2])
        let result = try #require(answered.readReplies.first?.result)
        #expect(result.values == [[1, 2, 3]])
        guard case .found(let object) = result else { return }
        #expect(object.join() == context, "the read's context is the one the write returned")
    }

    @Test("a read of a key never written is notFound")
    func readMissing() {
        var node = CoreHarness.single()
        node.start()
        _ = node.read(1, key: a)
        let answered = node.completeAll()
        #expect(answered.readReplies.map(\.result) == [.notFound])
    }

    @Test("two writes of one key run their storage one at a time; a write of another key does not wait")
    func keyGate() throws {
        var node = CoreHarness.single()
        node.start()

        let first = node.write(1, key: a, value: [1])
        let second = node.write(2, key: a, value: [2])
        let other = node.write(3, key: b, value: [3])
        #expect(first.storageKinds == ["read"])
        #expect(second.storage.isEmpty, "the second write of the key must wait for the first")
        #expect(other.storageKinds == ["read"], "another key proceeds at once")
        #expect(node.pendingStorage.count == 2)

        let firstWrite = node.complete(try #require(first.operation("read")))
        #expect(firstWrite.storageKinds == ["write"], "still nothing for the second write")
        let firstDone = node.complete(try #require(firstWrite.operation("write")))
        #expect(firstDone.kinds == ["replyWrite", "storage:read"], "the second write reads only now")
        #expect(firstDone.storage.first?.command.key == a)

        let rest = node.completeAll()
        #expect(rest.writeReplies.map(\.client).sorted() == [2, 3])
        #expect(rest.writeReplies.allSatisfy { if case .stored = $0.result { true } else { false } })

        // Both blind writes of `a` survive as siblings: the second was minted over the first.
        _ = node.read(4, key: a)
        let read = node.completeAll()
        #expect(read.readReplies.first?.result.values.sorted { $0.lexicographicallyPrecedes($1) } == [[1], [2]])
    }

    @Test("beyond maxRequestsInFlight a request is refused as overloaded at once, and accepted again later")
    func requestBound() {
        var settings = NodeCore.Settings.single
        settings.maxRequestsInFlight = 2
        var node = CoreHarness.single(settings)
        node.start()

        _ = node.write(1, key: a, value: [1])
        _ = node.read(2, key: b)
        #expect(node.core.requestsInFlight == 2)

        let refusedWrite = node.write(3, key: c, value: [3])
        #expect(refusedWrite.count == 1)
        #expect(refusedWrite.writeReplies.map(\.result) == [.failed(.overloaded(limit: 2))])
        let refusedRead = node.read(4, key: c)
        #expect(refusedRead.count == 1)
        #expect(refusedRead.readReplies.map(\.result) == [.failed(.overloaded(limit: 2))])
        let refusedCAS = node.cas(5, key: c, .read)
        #expect(refusedCAS.count == 1)
        #expect(refusedCAS.casReplies.map(\.result) == [.failure(.overloaded(limit: 2))])
        #expect(node.pendingStorage.count == 2, "a refused request issues no storage")

        let done = node.completeAll()
        #expect(done.writeReplies.map(\.client) == [1])
        #expect(done.readReplies.map(\.client) == [2])
        #expect(node.core.requestsInFlight == 0)

        let accepted = node.write(6, key: c, value: [6])
        #expect(accepted.storageKinds == ["read"])
        #expect(!accepted.answersAClient)
    }

    @Test("a storage write that fails answers the write as failed and stores nothing")
    func storageFailure() throws {
        var node = CoreHarness.single()
        node.start()
        let started = node.write(1, key: a, value: [1])
        let coordinated = node.complete(try #require(started.operation("read")))
        let failed = node.complete(try #require(coordinated.operation("write")), with: .failed(StorageFailure("disk full")))
        guard case .failed(.quorum)? = failed.writeReplies.first?.result else {
            Issue.record("expected a failed write: \(failed.writeReplies)")
            return
        }
        #expect(node.disk.records[a] == nil)
        #expect(node.core.isQuiescent)
    }
}
