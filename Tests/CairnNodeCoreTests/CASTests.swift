import CairnCore
import CairnNodeCore
import Testing

/// Compare-and-set on a single node (N = 1): the node is proposer and the only acceptor, and
/// answers only once the acceptor's state is durable.
@Suite("Compare-and-set")
struct CASTests {
    let key: [UInt8] = Array("lock".utf8)

    /// Completes storage one operation at a time until a CAS is answered; the kinds completed
    /// before the answer, and the answer.
    func runUntilAnswered(_ node: inout CoreHarness)
        -> (completed: [String], answers: [Result<CAS.Proposer.Outcome, RequestFailure>])
    {
        var completed: [String] = []
        while let next = node.pendingStorage.first {
            completed.append(next.command.kind)
            let replies = node.complete(next.operation).casReplies
            if !replies.isEmpty { return (completed, replies.map(\.result)) }
        }
        return (completed, [])
    }

    @Test("create-if-absent is applied after the acceptor persisted; a second one sees the value")
    func createIfAbsent() {
        var node = CoreHarness.single()
        node.start()

        let started = node.cas(1, key: key, .compareAndSet(expected: nil, new: [1]))
        #expect(started.storageKinds == ["readAcceptor"])
        #expect(!started.answersAClient)
        let first = runUntilAnswered(&node)
        #expect(first.answers == [.success(.applied)])
        // Prepare and propose, each read and persisted before the acceptor answers; the commit
        // merged into the key's object before its state is persisted, then the answer.
        #expect(first.completed == ["readAcceptor", "writePaxos", "readAcceptor", "writePaxos", "readAcceptor", "merge", "writePaxos"])
        #expect(node.disk.paxos[key]?.committed.value == [1])
        #expect(node.disk.records[key]?.object.values(at: node.wallNow) == [[1]], "the value is in the key's own object")
        #expect(node.disk.records[key]?.object.isCASManaged == true)

        _ = node.cas(2, key: key, .compareAndSet(expected: nil, new: [2]))
        let second = runUntilAnswered(&node)
        #expect(second.answers == [.success(.failed(current: [1]))])
        node.completeAll()

        _ = node.cas(3, key: key, .read)
        #expect(runUntilAnswered(&node).answers == [.success(.read(current: [1]))])
        node.completeAll()
        #expect(node.core.isQuiescent)
    }

    @Test("CAS operations on one key wait for the running proposer")
    func oneProposerPerKey() {
        var node = CoreHarness.single()
        node.start()
        _ = node.cas(1, key: key, .compareAndSet(expected: nil, new: [1]))
        let waiting = node.cas(2, key: key, .compareAndSet(expected: nil, new: [2]))
        #expect(waiting.isEmpty, "the second proposer must not start while the first runs")
        #expect(node.core.requestsInFlight == 2)

        let answers = node.completeAll().casReplies
        #expect(answers.map(\.client) == [1, 2])
        #expect(answers.map(\.result) == [.success(.applied), .success(.failed(current: [1]))])
        #expect(node.disk.paxos[key]?.committed.value == [1])
        #expect(node.core.isQuiescent)
    }
}
