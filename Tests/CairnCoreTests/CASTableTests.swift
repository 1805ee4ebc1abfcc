import Testing
@testable import CairnCore

/// Table cases for the CAS acceptor and proposer, driven by a synchronous three-acceptor bench.
@Suite struct CASTableTests {
    let x = casBytes(1), y = casBytes(2), z = casBytes(3)

    @Test func ballotsOrderByCounterThenNode() {
        let a = CAS.Ballot(counter: 5, node: NodeID(high: 0, low: 9))
        let b = CAS.Ballot(counter: 6, node: NodeID(high: 0, low: 1))
        let c = CAS.Ballot(counter: 6, node: NodeID(high: 0, low: 2))
        #expect(CAS.Ballot.zero < a && a < b && b < c)
    }

    @Test func uncontendedCompareAndSetApplies() {
        var bench = CASBench()
        #expect(bench.run(1, .compareAndSet(expected: nil, new: x)) == .applied)
        #expect(bench.acceptorIDs.allSatisfy { bench.committed($0) == x }, "the commit reaches every acceptor")
        #expect(bench.run(2, .compareAndSet(expected: x, new: y)) == .applied)
        #expect(bench.run(3, .read) == .read(current: y))
    }

    @Test func expectedMismatchReturnsCurrent() {
        var bench = CASBench()
        #expect(bench.run(1, .compareAndSet(expected: nil, new: x)) == .applied)
        #expect(bench.run(2, .compareAndSet(expected: z, new: y)) == .failed(current: x))
        #expect(bench.run(3, .read) == .read(current: x), "a failed CAS writes nothing")
    }

    /// A proposal that lost to a higher ballot may still be chosen later (a minority that
    /// accepted it can have it completed), so a retry must not propose it again: a blind write
    /// would then take effect twice, the second time after writes that followed the first.
    /// (Found by the cluster simulator: `cairn-sim --workload cas`.)
    @Test func aRetryAfterProposingReportsUnknownInsteadOfProposingAgain() {
        var bench = CASBench()
        var first = bench.proposer(1, .write(new: x))
        var held: [CAS.Proposer.Effect] = []
        for effect in first.start(now: .zero) {
            guard case .send(let to, let message) = effect else { continue }
            for reply in bench.deliver(message, to: to) {
                held += first.onMessage(reply, from: to, now: .zero).filter { if case .send = $0 { true } else { false } }
            }
        }
        #expect(held.count == 3, "the first proposer is ready to propose x to every acceptor")
        // A second writer with a higher ballot gets y chosen before x's proposals arrive.
        #expect(bench.run(2, .write(new: y)) == .applied)
        bench.finish(&first, held)
        #expect(first.outcome == .unknown)
        #expect(bench.acceptorIDs.allSatisfy { bench.committed($0) == y }, "x must not be written after y")
        #expect(bench.run(3, .read) == .read(current: y))
    }

    @Test func createIfAbsentTwiceSecondFails() {
        var bench = CASBench()
        #expect(bench.run(1, .compareAndSet(expected: nil, new: x)) == .applied)
        #expect(bench.run(2, .compareAndSet(expected: nil, new: y)) == .failed(current: x))
    }

    @Test func inProgressValueOfACrashedProposerIsCompletedByTheNext() {
        var bench = CASBench()
        let (a, b, c) = (bench.acceptorIDs[0], bench.acceptorIDs[1], bench.acceptorIDs[2])
        // The first proposer is promised by a and b, gets its value accepted by `a` alone,
        // then crashes before it hears back.
        var first = bench.proposer(1, .compareAndSet(expected: nil, new: x))
        _ = first.start(now: .zero)
        var effects: [CAS.Proposer.Effect] = []
        for id in [a, b] {
            for reply in bench.deliver(.prepare(first.ballot), to: id) { effects += first.onMessage(reply, from: id, now: .zero) }
        }
        let proposes = effects.compactMap { effect -> CAS.Message? in
            if case .send(a, let message) = effect, case .propose = message { return message } else { return nil }
        }
        #expect(proposes.count == 1)
        for message in proposes { _ = bench.deliver(message, to: a) }
        #expect(bench.acceptors[a]!.state.accepted?.value == x)
        // The next proposer reaches a majority that includes `a`: it must finish x first.
        bench.reachable = [a, c]
        #expect(bench.run(2, .compareAndSet(expected: nil, new: y)) == .failed(current: x))
        #expect(bench.committed(a) == x && bench.committed(c) == x)
        #expect(bench.acceptors[a]!.state.accepted == nil && bench.acceptors[c]!.state.accepted == nil)
        #expect(bench.committed(b) == nil, "b was unreachable")
    }

    @Test func minorityReachableIsUnavailableAndWritesNothing() {
        var bench = CASBench()
        bench.reachable = [bench.acceptorIDs[0]]
        var p = bench.proposer(1, .compareAndSet(expected: nil, new: x))
        let timers = bench.pump(&p, p.start(now: .zero))
        #expect(p.outcome == nil)
        #expect(p.onTimer(timers.last!, now: .zero) == [.complete(.unavailable)])
        #expect(bench.acceptorIDs.allSatisfy { bench.committed($0) == nil && bench.acceptors[$0]!.state.accepted == nil })
    }

    /// An acceptor that refuses outright (it is still gathering the partition's states) counts
    /// as a rejection: once a majority has refused, the proposer backs off and tries again at
    /// once instead of waiting out the phase and giving up as unavailable.
    @Test func refusalsCountAsRejections() {
        var bench = CASBench()
        let (a, c) = (bench.acceptorIDs[0], bench.acceptorIDs[2])
        bench.reachable = []  // every answer is lost; the refusals come by hand
        var p = bench.proposer(1, .read)
        let started = bench.pump(&p, p.start(now: .zero))
        #expect(started.map(\.kind) == [.phaseTimeout])
        #expect(p.onRefused(from: c, now: 10).isEmpty, "one refusal: a majority may still promise")
        #expect(p.onRefused(from: c, now: 15).isEmpty, "a repeated refusal counts once")
        let effects = p.onRefused(from: a, now: 20)
        guard case .schedule(let timer, let at)? = effects.first, timer.kind == .backoff else {
            Issue.record("no backoff after a majority refused: \(effects)")
            return
        }
        #expect(at >= 20)
        #expect(p.outcome == nil, "not given up")
        #expect(p.onRefused(from: NodeID(high: 9, low: 9), now: 30).isEmpty, "a stranger's refusal is ignored")
    }

    @Test func timeoutAfterProposeIsUnknown() {
        var bench = CASBench()
        var p = bench.proposer(1, .compareAndSet(expected: nil, new: x))
        let timers = bench.pump(&p, p.start(now: .zero)) { _, reply in
            if case .accepted = reply { return true } else { return false }
        }
        #expect(p.outcome == nil, "no accept came back")
        #expect(p.onTimer(timers.last!, now: .zero) == [.complete(.unknown)])
        // It did take effect: the next proposer finishes it.
        #expect(bench.run(2, .read) == .read(current: x))
    }

    @Test func contentionRetriesWithAHigherBallot() {
        var bench = CASBench()
        let rival = CAS.Ballot(counter: 50, node: NodeID(high: 0xC, low: 1))
        for id in bench.acceptorIDs { _ = bench.deliver(.prepare(rival), to: id) }
        var p = bench.proposer(1, .compareAndSet(expected: nil, new: x))
        let timers = bench.pump(&p, p.start(now: .zero))
        guard let backoff = timers.last, backoff.kind == .backoff else { Issue.record("no backoff: \(timers)"); return }
        bench.pump(&p, p.onTimer(backoff, now: .zero))
        #expect(p.outcome == .applied)
        #expect(p.ballot.counter > rival.counter)
        #expect(p.attempts == 2)
    }

    @Test func mismatchAfterOwnProposeIsUnknownNotFailed() {
        var bench = CASBench()
        let (a, b, c) = (bench.acceptorIDs[0], bench.acceptorIDs[1], bench.acceptorIDs[2])
        var p = bench.proposer(1, .compareAndSet(expected: nil, new: x))
        // Promises from all; the propose reaches only `a` before a rival takes over b and c.
        bench.reachable = [a, b, c]
        var effects = p.start(now: .zero)
        let prepares = effects.filter { if case .send(_, .prepare) = $0 { return true } else { return false } }
        effects = []
        for case .send(let to, let message) in prepares {
            for reply in bench.deliver(message, to: to) { effects += p.onMessage(reply, from: to, now: .zero) }
        }
        let rival = CAS.Ballot(counter: 100, node: NodeID(high: 0xC, low: 1))
        _ = bench.deliver(.prepare(rival), to: b)
        _ = bench.deliver(.prepare(rival), to: c)
        let timers = bench.pump(&p, effects)
        guard let backoff = timers.last, backoff.kind == .backoff else { Issue.record("no backoff: \(timers)"); return }
        // Another proposer (its majority includes `a`) finishes x and then writes z over it.
        #expect(bench.run(2, .compareAndSet(expected: x, new: z)) == .applied)
        #expect(bench.committed(a) == z)
        bench.finish(&p, p.onTimer(backoff, now: .zero))
        #expect(p.outcome == .unknown, "x did take effect: reporting failed would be false")
    }

    @Test func acceptorPersistsBeforeEveryReplyThatDependsOnAChange() {
        var acceptor = CAS.Acceptor()
        let b1 = CAS.Ballot(counter: 1, node: NodeID(high: 0, low: 1))
        let b2 = CAS.Ballot(counter: 2, node: NodeID(high: 0, low: 1))
        var effects = acceptor.onPrepare(b2)
        #expect(effects == [.persist(acceptor.state), .reply(.promise(b2, accepted: nil, committed: .initial, object: nil))])
        #expect(acceptor.onPrepare(b2) == [.reply(.promise(b2, accepted: nil, committed: .initial, object: nil))],
                "a duplicate changes nothing")
        #expect(acceptor.onPrepare(b1) == [.reply(.prepareRejected(b1, promised: b2))])
        #expect(acceptor.onPropose(.init(ballot: b1, value: [1])) == [.reply(.proposeRejected(b1, promised: b2))])
        let proposal = CAS.Proposal(ballot: b2, value: [7])
        effects = acceptor.onPropose(proposal)
        #expect(effects == [.persist(.init(promised: b2, accepted: proposal, committed: .initial)), .reply(.accepted(b2))])
        #expect(acceptor.onCommit(proposal) == [
            .apply(proposal), .persist(.init(promised: b2, accepted: nil, committed: proposal)), .reply(.committed(b2)),
        ], "the object first, then the state, then the answer")
        #expect(acceptor.onCommit(.initial) == [.reply(.committed(.zero))], "a stale commit changes nothing but is answered")
    }
}
