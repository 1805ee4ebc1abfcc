import Testing
@testable import CairnCore

/// Hand-worked GET cases for `Quorum.ReadCoordinator`: merging, not-found, read repair.
@Suite struct QuorumReadTableTests {
    typealias F = QuorumFixture
    let five = F.nodes(5)

    /// `old` written by node 1; `new` supersedes it; `other` is concurrent with `new`.
    let old = F.Object.new(F.value("old"), by: F.actor(F.node(1)))
    var new: F.Object {
        var object = old
        object.update(with: old.join(), value: F.value("new"), by: F.actor(F.node(1)))
        return object
    }
    var other: F.Object {
        var object = old
        object.update(with: old.join(), value: F.value("other"), by: F.actor(F.node(2)))
        return object
    }

    func started(r: Int, down: Set<NodeID> = []) -> (F.Read, [F.Read.Effect]) {
        var machine = F.Read(request: F.readRequest(extended: five, r: r), local: F.node(1))
        let effects = machine.start(now: 0, isReachable: F.reachable(except: down))
        return (machine, effects)
    }

    @Test func startAsksTheFirstNReachable() {
        let (machine, effects) = started(r: 2, down: [F.node(2)])
        #expect(effects == [.schedule(.response, at: 500),
                            .read(from: F.node(1)), .read(from: F.node(3)), .read(from: F.node(4))])
        #expect(machine.targets.last == Quorum.Target(node: F.node(4), hintFor: F.node(2)))
    }

    @Test func tooFewReachableFailsFast() {
        var machine = F.Read(request: F.readRequest(extended: F.nodes(3), r: 2), local: F.node(1))
        let effects = machine.start(now: 0, isReachable: F.reachable(except: [F.node(2), F.node(3)]))
        #expect(effects == [.reply(.failed(Quorum.Failure(keyHash: F.key, reason: .tooFewReachable(reachable: 1, required: 2))))])
        #expect(machine.isFinished)
    }

    @Test(arguments: [1, 2])
    func rDecidesHowManyRepliesAreMerged(r: Int) {
        var (machine, _) = started(r: r)
        let first = machine.onReply(from: F.node(2), object: old, now: 1)
        if r == 1 {
            #expect(first.first == .reply(.found(old)), "R = 1 answers with the first reply, stale or not")
            return
        }
        #expect(first.isEmpty)
        let second = machine.onReply(from: F.node(1), object: new, now: 2)
        #expect(second.first == .reply(.found(new)), "R = 2 picks the newer of the two")
    }

    @Test func concurrentRepliesComeBackAsSiblings() {
        var (machine, _) = started(r: 2)
        _ = machine.onReply(from: F.node(1), object: new, now: 1)
        let effects = machine.onReply(from: F.node(2), object: other, now: 2)
        guard case .reply(.found(let merged)) = effects.first else { Issue.record("no answer: \(effects)"); return }
        #expect(Set(merged.values(at: .zero)) == [F.value("new"), F.value("other")])
        #expect(merged.join() == CausalContext([F.actor(F.node(1)): 2, F.actor(F.node(2)): 1]))
        #expect(merged == F.Object.sync(new, other))
    }

    @Test func allNotFoundIsAbsentAndRepairsNothing() {
        var (machine, _) = started(r: 2)
        #expect(machine.onReply(from: F.node(1), object: nil, now: 1).isEmpty)
        let answer = machine.onReply(from: F.node(3), object: nil, now: 2)
        #expect(answer == [.reply(.notFound), .schedule(.repair, at: 1_002)])
        #expect(machine.onReply(from: F.node(2), object: nil, now: 3).isEmpty)
        #expect(machine.isFinished)
    }

    @Test func readRepairTargetsExactlyTheStaleReplicasAfterTheAnswer() {
        var (machine, _) = started(r: 2)
        _ = machine.onReply(from: F.node(1), object: new, now: 1)
        let answer = machine.onReply(from: F.node(2), object: old, now: 2)
        #expect(answer == [.reply(.found(new)), .schedule(.repair, at: 1_002)],
                "no repair before every target answered or the repair timer")
        let late = machine.onReply(from: F.node(3), object: nil, now: 3)
        #expect(late == [.repair(to: F.node(2), object: new, hintFor: nil), .repair(to: F.node(3), object: new, hintFor: nil)],
                "the stale and the not-found replica, not the up-to-date one")
        #expect(machine.isFinished)
        #expect(machine.onTimer(.repair, now: 1_002).isEmpty, "repairs are sent once")
    }

    @Test func aLateNewerReplyIsRepairedEverywhereButTheAnswerStands() {
        var (machine, _) = started(r: 2)
        _ = machine.onReply(from: F.node(1), object: old, now: 1)
        #expect(machine.onReply(from: F.node(2), object: old, now: 2).first == .reply(.found(old)))
        let late = machine.onReply(from: F.node(3), object: new, now: 3)
        #expect(late == [.repair(to: F.node(1), object: new, hintFor: nil), .repair(to: F.node(2), object: new, hintFor: nil)])
        #expect(machine.outcome == .found(old))
    }

    @Test func theRepairTimerEndsTheWaitAndRepairsAFallbackAsAHint() {
        var (machine, _) = started(r: 2, down: [F.node(2)])
        _ = machine.onReply(from: F.node(1), object: new, now: 1)
        _ = machine.onReply(from: F.node(4), object: nil, now: 2)
        #expect(!machine.isFinished, "node 3 has not answered")
        #expect(machine.onTimer(.response, now: 500).isEmpty, "the response timer is moot once answered")
        #expect(machine.onTimer(.repair, now: 1_002) == [.repair(to: F.node(4), object: new, hintFor: F.node(2))])
        #expect(machine.onReply(from: F.node(3), object: old, now: 1_003).isEmpty, "after the repair deadline")
    }

    @Test func timeoutBeforeRFailsAndStillRepairsWhatArrived() {
        var (machine, _) = started(r: 3)
        _ = machine.onReply(from: F.node(1), object: new, now: 1)
        _ = machine.onReply(from: F.node(1), object: old, now: 1)
        _ = machine.onReply(from: F.node(2), object: old, now: 2)
        let effects = machine.onTimer(.response, now: 500)
        #expect(effects == [.reply(.failed(Quorum.Failure(keyHash: F.key, reason: .timedOut(received: 2, required: 3)))),
                            .repair(to: F.node(2), object: new, hintFor: nil)],
                "a duplicate reply from node 1 is ignored")
        #expect(machine.isFinished)
    }

    @Test func failedReadsFailAsSoonAsRIsOutOfReach() {
        var (machine, _) = started(r: 2)
        _ = machine.onReply(from: F.node(1), object: new, now: 1)
        #expect(machine.onReadFailed(from: F.node(2), now: 2).isEmpty)
        #expect(machine.onReadFailed(from: F.node(3), now: 3) == [.reply(.failed(Quorum.Failure(
            keyHash: F.key, reason: .tooFewSucceeded(succeeded: 1, failed: 2, required: 2))))])
    }
}
