import CairnCore
import CairnNodeCore
import Testing

/// Every table of the core empties once its requests are answered: nothing is kept for a
/// request that is over, and its late timers change nothing.
@Suite("Quiescence")
struct QuiescenceTests {
    let peer = NodeID.test(2)

    @Test("after every client and peer request is answered no table keeps entries")
    func everythingAnsweredLeavesNothing() throws {
        var node = CoreHarness.single()
        node.start()
        node.admit(peer, number: 2)
        #expect(node.core.isQuiescent)

        let object = DVVSet<[UInt8]>.new([7], by: ReplicaActor(node: peer, epoch: 1))
        let replicated = Array("replicated".utf8)
        _ = node.write(1, key: Array("w".utf8), value: [1])
        _ = node.write(2, key: Array("w".utf8), value: [2])
        _ = node.read(3, key: Array("r".utf8))
        _ = node.cas(4, key: Array("c".utf8), .write(new: [4]))
        _ = node.peerRequest(from: peer, reply: 10, .replicate(Replicate(
            key: replicated, partition: node.partition(of: replicated), object: object)))
        _ = node.peerRequest(from: peer, reply: 11, .read(ReadRequest(
            key: replicated, partition: node.partition(of: replicated))))
        _ = node.peerRequest(from: peer, reply: 12, .hintBatch([
            HintItem(partition: node.partition(of: [5]), key: [5], object: object),
            HintItem(partition: node.partition(of: [6]), key: [6], object: object),
        ]))
        #expect(!node.core.isQuiescent)
        #expect(node.core.requestsInFlight == 4)

        node.completeAll()
        let log = node.log
        #expect(log.writeReplies.map(\.client).sorted() == [1, 2])
        #expect(log.readReplies.map(\.client) == [3])
        #expect(log.casReplies.map(\.client) == [4])
        #expect(log.responses.map(\.reply).sorted() == [10, 11, 12])
        #expect(log.responses.allSatisfy { !$0.message.isNack && !$0.message.isFailedRead })
        #expect(node.core.requestsInFlight == 0)
        #expect(node.core.isIdle)
        #expect(node.core.isQuiescent)

        // The requests' own timers, fired late, find nothing to answer.
        let requestTimers = node.timers.filter {
            switch $0.timer {
            case .write, .read, .cas: true
            default: false
            }
        }
        #expect(!requestTimers.isEmpty)
        for (timer, at) in requestTimers {
            node.now = max(node.now, at)
            let late = node.fire(timer)
            #expect(!late.answersAClient, "\(timer) answered twice")
        }
        #expect(node.core.isQuiescent)
    }

    @Test("a write that times out while waiting for its key stores nothing and leaves nothing")
    func timedOutWhileQueued() throws {
        var node = CoreHarness.single()
        node.start()
        let key = Array("k".utf8)
        _ = node.write(1, key: key, value: [1])
        _ = node.write(2, key: key, value: [2])
        let deadline = try #require(node.timers.last { if case .write = $0.timer { true } else { false } })

        node.now = deadline.at
        let expired = node.fire(deadline.timer)
        #expect(expired.writeReplies.map(\.client) == [2])
        #expect(expired.writeReplies.allSatisfy { if case .failed = $0.result { true } else { false } })

        node.completeAll()
        #expect(node.log.storageKinds.filter { $0 == "write" }.count == 1, "only the first write is stored")
        #expect(node.disk.records[key]?.object.values(at: node.wallNow) == [[1]])
        #expect(node.core.isQuiescent)
    }
}
