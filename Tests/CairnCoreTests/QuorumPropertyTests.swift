import Testing
@testable import CairnCore

/// The coordinators against deliberately simple models, over random reachability, quorum
/// sizes and event orders with drops, duplicates, strangers and timeouts (in the manner of
/// etcd-io/raft `quorum/quick_test.go`). A failing seed is in the message and replays exactly.
@Suite struct QuorumPropertyTests {
    typealias F = QuorumFixture

    enum WriteEvent {
        case coordinated
        case ack(NodeID)
        case timeout
    }

    /// A random cluster for one request: the extended list, N, the quorum (W or R), the
    /// coordinating node and the nodes it believes down (each other node with `downPercent`).
    static func randomCluster(_ rng: inout SplitMix64, downPercent: Int)
        -> (extended: [NodeID], n: Int, quorum: Int, local: NodeID, down: Set<NodeID>)
    {
        let members = 1 + rng.below(6)
        let extended = F.nodes(members).shuffled(using: &rng)
        let n = min(members, 1 + rng.below(3))
        let quorum = 1 + rng.below(n)
        let local = extended[rng.below(members)]
        let down = Set(extended.filter { $0 != local && rng.chance(downPercent) })
        return (extended, n, quorum, local, down)
    }

    @Test(arguments: 0..<400)
    func writeSucceedsIffWDistinctAcksArriveBeforeTheTimeout(seed: UInt64) {
        var rng = SplitMix64.mixed(seed)
        let (extended, n, w, local, down) = Self.randomCluster(&rng, downPercent: 30)
        var machine = F.Write(request: F.writeRequest(extended: extended, w: w, n: n), local: local)
        var effects = machine.start(now: 0, isReachable: F.reachable(except: down))

        // Model of target selection: first N reachable; fallbacks name missing primaries in order.
        let primaries = Array(extended.prefix(n))
        let modelTargets = Array(extended.filter { !down.contains($0) }.prefix(n))
        #expect(machine.targets.map(\.node) == modelTargets, "seed \(seed)")
        let fallbacks = machine.targets.filter(\.isFallback)
        #expect(fallbacks.compactMap(\.hintFor) == Array(primaries.filter(down.contains).prefix(fallbacks.count)), "seed \(seed)")
        #expect(fallbacks.allSatisfy { !primaries.contains($0.node) }, "seed \(seed)")

        if modelTargets.count < w {
            #expect(effects == [.reply(.failed(Quorum.Failure(keyHash: F.key, reason: .tooFewReachable(reachable: modelTargets.count, required: w))))], "seed \(seed)")
            return
        }
        guard modelTargets.contains(local) else {
            guard case .forward(let to, _) = effects.last else { Issue.record("seed \(seed): no forward: \(effects)"); return }
            #expect(to == modelTargets[0], "seed \(seed)")
            return
        }

        // Random events: coordination (maybe never), acks from anyone (dups, strangers, early
        // ones that a real replica could not send), the timeout somewhere (maybe never).
        var events: [WriteEvent] = (0..<rng.below(12)).map { _ in .ack(extended[rng.below(extended.count)]) }
        if rng.chance(90) { events.insert(.coordinated, at: rng.below(events.count + 1)) }
        if rng.chance(60) { events.insert(.timeout, at: rng.below(events.count + 1)) }

        var object = F.Object()
        object.update(with: CausalContext(), value: F.value("x"), by: F.actor(local))
        // Model: acks count from targets, once each, after coordination, before the timeout.
        var coordinated = false
        var timedOut = false
        var modelAcks: Set<NodeID> = []
        var modelSuccess = false
        for event in events {
            switch event {
            case .coordinated:
                effects += machine.onCoordinated(object: object, now: 1)
                if !timedOut { coordinated = true; modelAcks.insert(local) }
            case .ack(let node):
                effects += machine.onAck(from: node, now: 2)
                if coordinated, !timedOut, modelTargets.contains(node) { modelAcks.insert(node) }
            case .timeout:
                effects += machine.onTimer(.response, now: 500)
                timedOut = true
            }
            if modelAcks.count >= w { modelSuccess = true }
            if modelSuccess { timedOut = true }  // decided: nothing later counts
        }
        let replies = effects.compactMap { effect -> F.Write.Outcome? in
            if case .reply(let outcome) = effect { outcome } else { nil }
        }
        #expect(replies.count <= 1, "seed \(seed): decided twice: \(replies)")
        if modelSuccess {
            #expect(replies == [.stored(context: object.join())], "seed \(seed)")
        } else if events.contains(where: { if case .timeout = $0 { true } else { false } }) {
            guard case .failed(let failure)? = replies.first, case .timedOut = failure.reason else {
                Issue.record("seed \(seed): expected a timeout, got \(replies)"); return
            }
        } else {
            #expect(replies.isEmpty, "seed \(seed): undecided without a timeout")
        }
        // Replication goes to every other target, exactly once, only after coordination.
        let sent = effects.compactMap { effect -> NodeID? in
            if case .replicate(let to, _, _) = effect { to } else { nil }
        }
        if coordinated {
            #expect(Set(sent) == Set(modelTargets).subtracting([local]) && sent.count == modelTargets.count - 1, "seed \(seed)")
        } else {
            #expect(sent.isEmpty, "seed \(seed)")
        }
    }

    enum ReadEvent {
        case reply(NodeID)
        case fail(NodeID)
        case responseTimer
        case repairTimer
    }

    /// A pool of related objects: each write is coordinated by a random actor on its own
    /// object (so dots stay unique), after it has maybe synced some earlier object, with the
    /// context of a random earlier object, so replies are equal, stale, newer or concurrent.
    static func objects(_ rng: inout SplitMix64, actors: [NodeID]) -> [F.Object] {
        var own: [NodeID: F.Object] = [:]
        var pool = [F.Object()]
        for i in 0..<6 {
            let actor = actors[rng.below(actors.count)]
            var object = own[actor] ?? F.Object()
            if rng.chance(50) { object.sync(with: pool[rng.below(pool.count)]) }
            let context = rng.chance(70) ? object.join() : pool[rng.below(pool.count)].join()
            if rng.chance(20) {
                object.delete(with: context, by: F.actor(actor))
            } else {
                object.update(with: context, value: F.value("v\(i)"), by: F.actor(actor))
            }
            own[actor] = object
            pool.append(object)
        }
        return Array(pool.dropFirst())
    }

    /// The model's merge: fold `sync` over the objects, skipping not-found; nil if none.
    static func modelMerge(_ replies: [F.Object?]) -> F.Object? {
        var merged: F.Object?
        for case let reply? in replies { merged = merged.map { F.Object.sync($0, reply) } ?? reply }
        return merged
    }

    @Test(arguments: 0..<400)
    func getAnswersTheSyncOfTheFirstRRepliesAndRepairsExactlyTheStale(seed: UInt64) {
        var rng = SplitMix64.mixed(seed)
        let (extended, n, r, local, down) = Self.randomCluster(&rng, downPercent: 25)
        var machine = F.Read(request: F.readRequest(extended: extended, r: r, n: n), local: local)
        var effects = machine.start(now: 0, isReachable: F.reachable(except: down))
        let targets = Array(extended.filter { !down.contains($0) }.prefix(n))
        #expect(machine.targets.map(\.node) == targets, "seed \(seed)")
        guard targets.count >= r else {
            #expect(effects.count == 1 && machine.isFinished, "seed \(seed)")
            return
        }
        #expect(Set(effects.compactMap { if case .read(let from) = $0 { from } else { nil } }) == Set(targets), "seed \(seed)")

        let pool = Self.objects(&rng, actors: extended)
        var stored: [NodeID: F.Object?] = [:]
        for node in extended { stored[node] = rng.chance(25) ? .some(nil) : .some(pool[rng.below(pool.count)]) }
        var events: [ReadEvent] = (0..<rng.below(10)).map { _ in
            let node = extended[rng.below(extended.count)]
            return rng.chance(85) ? .reply(node) : .fail(node)
        }
        if rng.chance(50) { events.insert(.responseTimer, at: rng.below(events.count + 1)) }
        if rng.chance(50) { events.insert(.repairTimer, at: rng.below(events.count + 1)) }

        // Model: first answer per target counts; R replies decide; the answer is the sync of
        // the replies so far; repairs use every reply received until the machine ends.
        var answered: Set<NodeID> = []
        var received: [(NodeID, F.Object?)] = []
        var answer: F.Read.Outcome?
        var ended = false
        var answerIndex: Int?
        for event in events {
            let before = effects.count
            switch event {
            case .reply(let node):
                effects += machine.onReply(from: node, object: stored[node]!, now: 1)
                if !ended, targets.contains(node), answered.insert(node).inserted { received.append((node, stored[node]!)) }
            case .fail(let node):
                effects += machine.onReadFailed(from: node, now: 1)
                if !ended, targets.contains(node) { answered.insert(node) }
            case .responseTimer:
                effects += machine.onTimer(.response, now: 500)
                if answer == nil { ended = true }
            case .repairTimer:
                effects += machine.onTimer(.repair, now: 900)
                if answer != nil { ended = true }
            }
            if answer == nil, received.count >= r, !ended {
                let merged = Self.modelMerge(received.map(\.1))
                answer = merged.map { .found($0) } ?? .notFound
                answerIndex = before
            }
            if answer != nil, answered.count == targets.count { ended = true }
            if answer == nil, targets.count - (answered.count - received.count) < r { ended = true }
        }
        let replies = effects.enumerated().compactMap { index, effect -> (Int, F.Read.Outcome)? in
            if case .reply(let outcome) = effect { (index, outcome) } else { nil }
        }
        #expect(replies.count <= 1, "seed \(seed): decided twice")
        if let answer {
            #expect(replies.first?.1 == answer, "seed \(seed): \(replies) vs model \(answer)")
            #expect(replies.first?.0 == answerIndex, "seed \(seed): answered at the R-th reply")
        } else if ended {
            guard case .failed? = replies.first?.1 else { Issue.record("seed \(seed): expected a failure, got \(replies)"); return }
        } else {
            #expect(replies.isEmpty, "seed \(seed)")
        }
        #expect(machine.isFinished == ended, "seed \(seed)")

        let repairs = effects.enumerated().compactMap { index, effect -> (Int, NodeID, F.Object)? in
            if case .repair(let to, let object, _) = effect { (index, to, object) } else { nil }
        }
        if !ended {
            #expect(repairs.isEmpty, "seed \(seed): repairs before the end")
            return
        }
        let all = Self.modelMerge(received.map(\.1))
        let stale = Set(received.filter { all != nil && $0.1 != all }.map(\.0))
        #expect(Set(repairs.map(\.1)) == stale && repairs.count == stale.count, "seed \(seed): repaired \(repairs.map(\.1)), stale \(stale)")
        #expect(repairs.allSatisfy { $0.2 == all! }, "seed \(seed)")
        if let first = replies.first { #expect(repairs.allSatisfy { $0.0 > first.0 }, "seed \(seed): repair before the answer") }
    }
}
