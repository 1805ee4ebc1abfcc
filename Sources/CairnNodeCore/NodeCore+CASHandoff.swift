import CairnCore

/// Compare-and-set across ring changes (docs/cas.md, "Membership changes").
///
/// A CAS value lives in the key's object, which moves with handoff like any other; what does
/// not is an acceptor's promise or a proposal it accepted but has not seen committed. Paxos is
/// safe only while every majority of the acceptors a proposer asks meets every majority that
/// accepted a proposal. After a ring change, a majority of the new replicas may consist of
/// nodes that were not acceptors before, so a node that gains a partition first gathers the
/// acceptor states of the partition's keys from every other member (the old replicas among
/// them, whichever ring versions this node skipped) and merges them into its own, and refuses
/// to promise or accept for the partition until it has them all — from fellow replicas of the
/// new list only while they are reachable, since they keep their own.
///
/// A member outside the new list counts only if it did not replicate the partition in its own
/// ring when it answered: such a member refuses to promise or accept for the partition from
/// then on (and withholds the answer of any promise or acceptance already under way,
/// `acceptorAnswered`), so what it sent is final. One that still replicates it (it has not
/// heard of the change yet) is asked again later, from the first page. A leaving node stays
/// until the nodes that gained its partitions have gathered its states.
///
/// Then, for an old majority Q and a new majority Q′ that share no node: not all of Q can be
/// new replicas too (two majorities of the new list meet), so Q holds an old replica that left
/// the list, and Q′ holds a node that gained the partition (two majorities of the old list
/// meet), which has merged that old replica's final state. Collecting from the fellow replicas
/// too covers the case this argument leaves out: an old replica removed by an operator (its
/// states lost) whose accepted proposal survives on one fellow replica only.
extension NodeCore {
    /// The gathering of one member's states of one partition.
    struct CASStatesPull: Sendable {
        /// Where the next page starts (nil: the first).
        var after: [UInt8]?
        var inFlight = false
        /// Not asked again before this time (after a refusal or a failure).
        var retryAt = MonotonicTime.zero
    }

    /// Partitions whose acceptor states this node is still gathering.
    public var partitionsGatheringCASStates: [Int] { casAwaiting.keys.sorted() }

    /// The members whose acceptor states of `partition` this node still waits for.
    public func casStatesAwaited(_ partition: Int) -> [NodeID] { (casAwaiting[partition] ?? []).sorted() }

    /// Plans the gathering for a ring change from `old` to `new`: a partition this node
    /// gained waits for every other member (strictly, if an old replica was removed); one it
    /// is already gathering for also waits for the old replicas of this change (they may have
    /// been acceptors since); one it no longer replicates needs nothing.
    ///
    /// A partition this node lost is *owed* to the nodes that gained it: a leaving node does
    /// not become `left` (and so stop answering) until each of them has gathered its states of
    /// the partition, or no one has asked for a while (`casStatesPaid`).
    mutating func planCASStates(from old: Ring, to new: Ring, now: MonotonicTime) {
        guard !settings.brokenCASWithoutStateHandoff else { return }
        let n = settings.replicas
        let others = Set(cluster.members.values.filter { !$0.status.isTombstone && $0.id != id }.map(\.id))
        for change in RingDiff(from: old, to: new).replicaChanges(n: n) where shard.owns(change.partition) {
            let partition = change.partition
            let replicas = Set(new.preferenceList(for: partition, n: n))
            if !replicas.contains(id) {
                casAwaiting[partition] = nil
                casPulls[partition] = nil
                casStrict.remove(partition)
                let gained = Set(change.gained).subtracting([id])
                if old.preferenceList(for: partition, n: n).contains(id), !gained.isEmpty {
                    casStatesOwed[partition, default: []].formUnion(gained)
                    casStatesOwedSince = casStatesOwedSince ?? now
                }
                continue
            }
            casStatesOwed[partition] = nil
            let awaited: Set<NodeID>
            if change.gained.contains(id) {
                awaited = others
                casPulls[partition] = [:]
                casStrict.remove(partition)
                if old.preferenceList(for: partition, n: n).contains(where: isRemoved) { casStrict.insert(partition) }
            } else if let current = casAwaiting[partition] {
                awaited = current.union(old.preferenceList(for: partition, n: n)).subtracting([id])
            } else {
                continue
            }
            casAwaiting[partition] = awaited.isEmpty ? nil : awaited
            casPulls[partition] = casPulls[partition]?.filter { awaited.contains($0.key) }
            if awaited.isEmpty { casStrict.remove(partition) }
        }
    }

    /// Whether an operator removed `node` (or it is unknown): its acceptor states are lost.
    func isRemoved(_ node: NodeID) -> Bool {
        guard let member = cluster.members[node] else { return true }
        return member.status == .removed
    }

    /// Asks for the next page of every gathering not waiting for one, at most
    /// `casStatesPullConcurrency` at once. Stops waiting for members that are gone, and for
    /// fellow replicas that are unreachable, since they keep their own states — unless an old
    /// replica of the partition was removed (*strict*): its states are lost with it, and a
    /// fellow replica may hold the only surviving copy of a proposal it had accepted, so every
    /// fellow replica is waited for until it answers or is gone too.
    mutating func pullCASStates(view: ClusterView, now: MonotonicTime) -> [NodeCommand] {
        var commands: [NodeCommand] = []
        var inFlight = casPulls.values.reduce(0) { $0 + $1.values.count(where: \.inFlight) }
        for (partition, awaited) in casAwaiting.sorted(by: { $0.key < $1.key }) {
            let replicas = view.ring.map { Set($0.preferenceList(for: partition, n: settings.replicas)) } ?? []
            if awaited.contains(where: { !replicas.contains($0) && isRemoved($0) }) { casStrict.insert(partition) }
            let strict = casStrict.contains(partition)
            let remaining = awaited.filter { !isGone($0) && (strict || view.isReachable($0) || !replicas.contains($0)) }
            if remaining != awaited {
                commands += casStatesGathered(partition, remaining: remaining)
                if remaining.isEmpty { continue }
            }
            for source in remaining.sorted() where inFlight < settings.casStatesPullConcurrency && view.isReachable(source) {
                var pull = casPulls[partition]?[source] ?? CASStatesPull()
                guard !pull.inFlight, now >= pull.retryAt else { continue }
                pull.inFlight = true
                casPulls[partition, default: [:]][source] = pull
                inFlight += 1
                let call = newCall(.casStates(partition: partition, from: source, after: pull.after))
                commands.append(.request(call: call, to: source, .casStatesRequest(partition: partition, after: pull.after),
                                         timeoutMilliseconds: settings.requestTimeoutMilliseconds))
            }
        }
        return commands
    }

    /// A member asks for this node's acceptor states of `partition`: read a page of them.
    mutating func answerCASStatesRequest(partition: Int, after: [UInt8]?, from peer: NodeID, reply: UInt64, view: ClusterView, now: MonotonicTime)
        -> [NodeCommand]
    {
        if let problem = partitionProblem(partition, view: view) { return [.respond(reply: reply, .nack(reason: problem))] }
        lastCASStatesRequestAt = now
        let operation = newOperation(.answerCASStates(
            reply: reply, partition: partition, replicated: replicates(partition, view: view), peer: peer))
        return [.storage(operation: operation, .readAcceptorStates(after: after, limit: settings.casStatesPageSize))]
    }

    /// The page was read: the states of the partition's keys go back, with whether this node
    /// replicated the partition at any point while it answered. The last page of a gathering
    /// this node's states count for pays what it owed the asking node.
    mutating func answerCASStates(reply: UInt64, partition: Int, replicated: Bool, peer: NodeID, _ result: StorageResult,
                                  now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        let view = clusterView(now: now)
        guard case .acceptorStates(let states, let next) = result else {
            let reason = if case .failed(let failure) = result { failure.message } else { "unexpected storage result" }
            return [.respond(reply: reply, .nack(reason: reason))]
        }
        guard let ring = view.ring, partition < ring.partitionCount else {
            return [.respond(reply: reply, .nack(reason: "no ring"))]
        }
        let mine = states.filter { ring.partition(for: keyHash($0.key)) == partition }
        let replicates = replicated || replicates(partition, view: view)
        var commands: [NodeCommand] = [.respond(reply: reply, .casStates(CASStatesPage(states: mine, next: next, replicates: replicates)))]
        if next == nil, !replicates, casStatesOwed[partition]?.remove(peer) != nil {
            if casStatesOwed[partition]?.isEmpty == true { casStatesOwed[partition] = nil }
            commands.append(.persistHandoff(handoffState))
            commands += finishLeavingIfDone(now: now, wallNow: wallNow)
        }
        return commands
    }

    /// Whether nothing is owed any more: every node that gained a partition from this one has
    /// gathered its states or is gone; or no node has asked for states for three request
    /// intervals (gatherers ask every interval until done: a node whose view of the change
    /// differs, having gathered from this one before it left the list, will not ask again);
    /// or the wait has lasted `pendingSafetyValveMilliseconds`.
    mutating func casStatesPaid(now: MonotonicTime) -> Bool {
        casStatesOwed = casStatesOwed.compactMapValues { targets in
            let waiting = targets.filter { !isGone($0) }
            return waiting.isEmpty ? nil : waiting
        }
        let since = casStatesOwedSince ?? now
        let quietSince = max(since, lastCASStatesRequestAt ?? .zero)
        if casStatesOwed.isEmpty || now >= since + settings.pendingSafetyValveMilliseconds
            || now >= quietSince + 3 * settings.handoffRequestIntervalMilliseconds {
            casStatesOwed = [:]
            casStatesOwedSince = nil
            return true
        }
        return false
    }

    func replicates(_ partition: Int, view: ClusterView) -> Bool {
        view.ring?.preferenceList(for: partition, n: settings.replicas).contains(id) ?? true
    }

    /// A page of `source`'s states arrived (nil: the request failed): merge each state through
    /// the key's acceptor order, then ask for the next page.
    mutating func casStatesAnswered(partition: Int, from source: NodeID, after: [UInt8]?, _ message: WireMessage?, view: ClusterView,
                                    now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        // Only the answer to the request this gathering is waiting for (not one sent before the
        // gathering was planned again).
        guard casAwaiting[partition]?.contains(source) == true, var pull = casPulls[partition]?[source], pull.inFlight,
              pull.after == after else { return [] }
        pull.inFlight = false
        guard case .casStates(let page)? = message, let ring = view.ring else {
            // A refusal comes at once, and is mostly a source that has not yet heard of this
            // node (it serves members only): gossip tells it within a round or two, so ask
            // again soon. No answer at all waits the full interval.
            let isRefusal = if case .nack? = message { true } else { false }
            pull.retryAt = now + (isRefusal ? min(100, settings.handoffRequestIntervalMilliseconds) : settings.handoffRequestIntervalMilliseconds)
            casPulls[partition]?[source] = pull
            return []
        }
        if page.replicates, !ring.preferenceList(for: partition, n: settings.replicas).contains(source) {
            // The member has not seen the change yet and may still accept: from the start, later.
            pull.after = nil
            pull.retryAt = now + settings.handoffRequestIntervalMilliseconds
            casPulls[partition]?[source] = pull
            return []
        }
        pull.inFlight = true  // until the page is merged
        casPulls[partition]?[source] = pull
        let states = page.states.filter { ring.partition(for: keyHash($0.key)) == partition }
        guard !states.isEmpty else { return casStatesPageMerged(partition: partition, from: source, next: page.next, failure: nil, now: now) }
        let group = newNumber()
        groups[group] = Group(done: .casStates(partition: partition, source: source, next: page.next), remaining: states.count)
        var commands: [NodeCommand] = []
        for item in states {
            commands += enterAcceptor(item.key, AcceptorJob(handedOff: item.state, group: group), view: view, now: now, wallNow: wallNow)
        }
        return commands
    }

    /// Every state of a page is merged durably (or one failed: the page is asked for again).
    mutating func casStatesPageMerged(partition: Int, from source: NodeID, next: [UInt8]?, failure: String?, now: MonotonicTime) -> [NodeCommand] {
        guard var pull = casPulls[partition]?[source] else { return [] }
        pull.inFlight = false
        if let failure {
            pull.retryAt = now + settings.handoffRequestIntervalMilliseconds
            casPulls[partition]?[source] = pull
            return [.notice(.storageFailed(context: "merging handed-off acceptor states", StorageFailure(failure)))]
        }
        guard let next else {
            let remaining = (casAwaiting[partition] ?? []).subtracting([source])
            return casStatesGathered(partition, remaining: remaining) + pullCASStates(view: clusterView(now: now), now: now)
        }
        pull.after = next
        casPulls[partition]?[source] = pull
        return pullCASStates(view: clusterView(now: now), now: now)
    }

    mutating func casStatesGathered(_ partition: Int, remaining: Set<NodeID>) -> [NodeCommand] {
        if remaining.isEmpty {
            casAwaiting[partition] = nil
            casPulls[partition] = nil
            casStrict.remove(partition)
            return [.persistHandoff(handoffState), .notice(.casStatesGathered(partition: partition))]
        }
        casAwaiting[partition] = remaining
        casPulls[partition] = casPulls[partition]?.filter { remaining.contains($0.key) }
        return [.persistHandoff(handoffState)]
    }
}
