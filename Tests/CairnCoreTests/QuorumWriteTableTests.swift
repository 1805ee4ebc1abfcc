import Testing
@testable import CairnCore

/// Hand-worked PUT/DELETE cases for `Quorum.WriteCoordinator`.
@Suite struct QuorumWriteTableTests {
    typealias F = QuorumFixture
    let five = F.nodes(5)

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var members: Int
        var down: Set<UInt64>
        var w: Int
        /// Expected targets as (node, hintFor), or nil when the write must fail fast.
        var targets: [(UInt64, UInt64?)]?
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "all up", members: 5, down: [], w: 2, targets: [(1, nil), (2, nil), (3, nil)]),
        Case(name: "one primary down: fallback with hint", members: 5, down: [2], w: 2, targets: [(1, nil), (3, nil), (4, 2)]),
        Case(name: "two primaries down: two fallbacks in order", members: 5, down: [2, 3], w: 2, targets: [(1, nil), (4, 2), (5, 3)]),
        Case(name: "two down, only two reachable, W=2 via fallback", members: 4, down: [2, 3], w: 2, targets: [(1, nil), (4, 2)]),
        Case(name: "W=3 with only two reachable fails fast", members: 4, down: [2, 3], w: 3, targets: nil),
        Case(name: "two down of three fails fast at W=2", members: 3, down: [2, 3], w: 2, targets: nil),
        Case(name: "two down of three succeeds at W=1", members: 3, down: [2, 3], w: 1, targets: [(1, nil)]),
    ]

    @Test(arguments: cases)
    func targetsAndDecision(_ c: Case) {
        let extended = F.nodes(c.members)
        let down = Set(c.down.map(F.node))
        var machine = F.Write(request: F.writeRequest(extended: extended, w: c.w), local: F.node(1))
        let started = machine.start(now: 100, isReachable: F.reachable(except: down))
        guard let expected = c.targets else {
            let reachable = extended.filter { !down.contains($0) }.count
            #expect(started == [.reply(.failed(Quorum.Failure(
                keyHash: F.key, reason: .tooFewReachable(reachable: min(3, reachable), required: c.w))))])
            #expect(machine.isDecided)
            return
        }
        #expect(machine.targets.map { [$0.node.low, $0.hintFor?.low ?? 0] } == expected.map { [$0.0, $0.1 ?? 0] })
        #expect(started == [.schedule(.response, at: 600),
                            .coordinateLocally(context: CausalContext(), sibling: .value(F.value("v")), hintFor: nil)])

        var stored = F.Object()
        stored.update(with: CausalContext(), value: F.value("v"), by: F.actor(F.node(1)))
        var effects = machine.onCoordinated(object: stored, now: 110)
        let sends = effects.compactMap { effect -> [UInt64]? in
            guard case .replicate(let to, let object, let hintFor) = effect else { return nil }
            #expect(object == stored)
            return [to.low, hintFor?.low ?? 0]
        }
        #expect(sends == expected.dropFirst().map { [$0.0, $0.1 ?? 0] })
        if c.w == 1 {
            #expect(effects.last == .reply(.stored(context: stored.join())))
            return
        }
        #expect(!machine.isDecided)
        for target in expected.dropFirst() {
            effects = machine.onAck(from: F.node(target.0), now: 120)
            if machine.acked.count == c.w { break }
            #expect(effects.isEmpty)
        }
        #expect(effects == [.reply(.stored(context: stored.join()))])
        #expect(machine.acked.count == c.w)
    }

    /// Replicating while the local store waits for its fsync (`onMinted`): the other replicas'
    /// acks may decide before the local one, which still counts when it comes; a local store
    /// that fails counts as a refusal, deciding failure only once W is out of reach.
    @Test func mintedObjectsReplicateBeforeTheLocalAck() {
        let object = F.Object.new(F.value("v"), by: F.actor(F.node(1)))
        var machine = F.Write(request: F.writeRequest(extended: F.nodes(5), w: 2), local: F.node(1))
        _ = machine.start(now: 0, isReachable: F.reachable(except: []))
        let sent = machine.onMinted(object: object, now: 1)
        #expect(sent.compactMap { effect -> UInt64? in if case .replicate(let to, _, _) = effect { to.low } else { nil } } == [2, 3])
        #expect(machine.acked.isEmpty && !machine.isDecided)
        #expect(machine.onAck(from: F.node(2), now: 2).isEmpty)
        #expect(machine.onAck(from: F.node(3), now: 3) == [.reply(.stored(context: object.join()))])
        // After the decision the local ack changes nothing (as any late ack).
        #expect(machine.onCoordinated(object: object, now: 4).isEmpty)
        #expect(machine.acked == Set([F.node(2), F.node(3)]))

        // The local ack completes W.
        var second = F.Write(request: F.writeRequest(extended: F.nodes(5), w: 2), local: F.node(1))
        _ = second.start(now: 0, isReachable: F.reachable(except: []))
        _ = second.onMinted(object: object, now: 1)
        #expect(second.onAck(from: F.node(3), now: 2).isEmpty)
        #expect(second.onCoordinated(object: object, now: 3) == [.reply(.stored(context: object.join()))])

        // A failed local store is one refusal: W=2 of 3 is still in reach, then not.
        var third = F.Write(request: F.writeRequest(extended: F.nodes(5), w: 2), local: F.node(1))
        _ = third.start(now: 0, isReachable: F.reachable(except: []))
        _ = third.onMinted(object: object, now: 1)
        #expect(third.onLocalStoreFailed(message: "EIO", now: 2).isEmpty)
        #expect(!third.isDecided && third.refused == [F.node(1)])
        let failed = third.onNack(from: F.node(2), now: 3)
        #expect(failed.last == .reply(.failed(Quorum.Failure(
            keyHash: F.key, reason: .tooFewSucceeded(succeeded: 0, failed: 2, required: 2)))))
    }

    /// In a cluster of N nodes a down primary has no fallback: the coordinator keeps the hint
    /// itself, and only where no fallback stands in (Cassandra's hinted handoff).
    static let hintCases: [(members: Int, down: Set<UInt64>, hinted: [UInt64])] = [
        (3, [2], [2]), (3, [2, 3], [2, 3]), (4, [2], []), (4, [2, 3], [3]), (5, [2, 3], []),
    ]

    @Test(arguments: hintCases)
    func aPrimaryWithoutFallbackGetsAHintOnTheCoordinator(members: Int, down: Set<UInt64>, hinted: [UInt64]) {
        var machine = F.Write(request: F.writeRequest(extended: F.nodes(members), w: 1), local: F.node(1))
        _ = machine.start(now: 0, isReachable: F.reachable(except: Set(down.map(F.node))))
        let object = F.Object.new(F.value("v"), by: F.actor(F.node(1)))
        let effects = machine.onCoordinated(object: object, now: 1)
        let hints = effects.compactMap { effect -> UInt64? in
            guard case .storeHint(let primary, let hinted) = effect else { return nil }
            #expect(hinted == object)
            return primary.low
        }
        #expect(hints == hinted, "members \(members), down \(down)")
        #expect(effects.last == .reply(.stored(context: object.join())), "a hint is no ack, but W=1 is met by the coordinator")
    }

    @Test func timeoutFailsAndLateAckIsIgnored() {
        var machine = F.Write(request: F.writeRequest(extended: five, w: 3), local: F.node(1))
        _ = machine.start(now: 0, isReachable: { _ in true })
        _ = machine.onCoordinated(object: .new(F.value("v"), by: F.actor(F.node(1))), now: 1)
        #expect(machine.onAck(from: F.node(2), now: 2).isEmpty)
        #expect(machine.onAck(from: F.node(2), now: 3).isEmpty, "a duplicate ack is not a second ack")
        #expect(machine.onAck(from: F.node(5), now: 3).isEmpty, "a non-target's ack is ignored")
        let timedOut = machine.onTimer(.response, now: 500)
        #expect(timedOut == [.reply(.failed(Quorum.Failure(keyHash: F.key, reason: .timedOut(received: 2, required: 3))))])
        #expect(machine.onAck(from: F.node(3), now: 501).isEmpty)
        #expect(machine.onTimer(.response, now: 502).isEmpty)
        #expect(machine.outcome == .failed(Quorum.Failure(keyHash: F.key, reason: .timedOut(received: 2, required: 3))))
    }

    @Test func refusalsFailAsSoonAsWIsOutOfReach() {
        var machine = F.Write(request: F.writeRequest(extended: five, w: 2), local: F.node(1))
        _ = machine.start(now: 0, isReachable: { _ in true })
        let object = F.Object.new(F.value("v"), by: F.actor(F.node(1)))
        _ = machine.onCoordinated(object: object, now: 1)
        #expect(machine.onNack(from: F.node(2), now: 2) == [.storeHint(for: F.node(2), object: object)],
                "node 3 can still make W = 2; node 2 gets a hint")
        #expect(machine.onNack(from: F.node(3), now: 3) == [.storeHint(for: F.node(3), object: object), .reply(.failed(Quorum.Failure(
            keyHash: F.key, reason: .tooFewSucceeded(succeeded: 1, failed: 2, required: 2))))])
    }

    /// A replica that fails after the client was answered still gets its hint; an ack or a
    /// second answer from the same replica changes nothing.
    @Test func aReplicaFailingAfterTheDecisionIsHinted() {
        var machine = F.Write(request: F.writeRequest(extended: five, w: 2), local: F.node(1))
        _ = machine.start(now: 0, isReachable: F.reachable(except: [F.node(2)]))
        let object = F.Object.new(F.value("v"), by: F.actor(F.node(1)))
        _ = machine.onCoordinated(object: object, now: 1)
        #expect(machine.onAck(from: F.node(3), now: 2) == [.reply(.stored(context: object.join()))])
        #expect(machine.onNack(from: F.node(4), now: 3) == [.storeHint(for: F.node(2), object: object)],
                "the fallback for node 2 failed: the hint is for node 2")
        #expect(machine.onNack(from: F.node(4), now: 4).isEmpty)
        #expect(machine.onNack(from: F.node(3), now: 5).isEmpty, "node 3 answered already")
    }

    @Test func aNonReplicaForwardsOnceToTheFirstTarget() {
        var machine = F.Write(request: F.writeRequest(extended: five, w: 2), local: F.node(5))
        let effects = machine.start(now: 0, isReachable: F.reachable(except: [F.node(1)]))
        var forwarded = F.writeRequest(extended: five, w: 2)
        forwarded.forwardedBy = F.node(5)
        #expect(effects == [.schedule(.response, at: 500), .forward(to: F.node(2), request: forwarded)])
        #expect(machine.onForwardedOutcome(.stored(context: CausalContext()), from: F.node(3), now: 1).isEmpty,
                "only the node forwarded to answers")
        #expect(machine.onForwardedOutcome(.stored(context: CausalContext()), from: F.node(2), now: 1)
                == [.reply(.stored(context: CausalContext()))])

        // The receiver disagrees about reachability and is not a target: fail, never forward again.
        var receiver = F.Write(request: forwarded, local: F.node(2))
        let refused = receiver.start(now: 0, isReachable: F.reachable(except: [F.node(2)]))
        #expect(receiver.targets.map(\.node).contains(F.node(2)), "a node always counts itself reachable")
        var stranger = F.Write(request: forwarded, local: F.node(4))
        #expect(stranger.start(now: 0, isReachable: { _ in true }) == [.reply(.failed(Quorum.Failure(
            keyHash: F.key, reason: .coordinatorNotTarget(forwardedBy: F.node(5)))))])
        #expect(refused.contains(.coordinateLocally(context: CausalContext(), sibling: .value(F.value("v")), hintFor: nil)))
    }

    @Test func aFallbackCoordinatorStoresItsOwnCopyAsAHint() {
        var machine = F.Write(request: F.writeRequest(extended: five, w: 2), local: F.node(4))
        let effects = machine.start(now: 0, isReachable: F.reachable(except: [F.node(1)]))
        #expect(effects.last == .coordinateLocally(context: CausalContext(), sibling: .value(F.value("v")), hintFor: F.node(1)))
    }

    @Test func deleteIsAWriteOfATombstone() {
        let context = CausalContext([F.actor(F.node(1)): 3])
        let request = F.Write.Request.delete(
            keyHash: F.key, partition: 7, preferenceList: Array(five.prefix(3)), extendedList: five,
            context: context, w: 2, n: 3, timeoutMilliseconds: 500)
        var machine = F.Write(request: request, local: F.node(2))
        let effects = machine.start(now: 0, isReachable: { _ in true })
        #expect(effects.last == .coordinateLocally(context: context, sibling: .tombstone, hintFor: nil))
    }

    @Test func refusedCoordinationAndBadWFailWithoutReplicating() {
        var machine = F.Write(request: F.writeRequest(extended: five, w: 2), local: F.node(1))
        _ = machine.start(now: 0, isReachable: { _ in true })
        let error = VersionError(.siblingLimitExceeded, "too many siblings", limit: 8)
        #expect(machine.onCoordinationFailed(error, now: 1) == [.reply(.failed(Quorum.Failure(keyHash: F.key, reason: .rejected(error))))])
        #expect(machine.onCoordinated(object: .new(F.value("v"), by: F.actor(F.node(1))), now: 2).isEmpty)

        for w in [0, 4] {
            var bad = F.Write(request: F.writeRequest(extended: five, w: w), local: F.node(1))
            #expect(bad.start(now: 0, isReachable: { _ in true })
                    == [.reply(.failed(Quorum.Failure(keyHash: F.key, reason: .invalidQuorum(required: w, n: 3))))])
        }
    }

    @Test func targetSelectionMatchesHintsToMissingPrimariesInOrder() {
        let targets = Quorum.targets(extendedList: five, n: 3) { ![F.node(1), F.node(3), F.node(4)].contains($0) }
        #expect(targets == [Quorum.Target(node: F.node(2)), Quorum.Target(node: F.node(5), hintFor: F.node(1))])
    }
}
