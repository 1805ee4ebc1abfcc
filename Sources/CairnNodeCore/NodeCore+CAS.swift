import CairnCore

/// Compare-and-set: single-decree Paxos per key over the key's primaries. This node runs one
/// `CAS.Proposer` per key at a time (later operations on the key wait their turn, the
/// proposer's duty 4 in docs/cas.md), and answers as an acceptor whose state is durable before
/// its reply leaves.
extension NodeCore {
    struct PendingCAS: Sendable {
        var client: UInt64
        var operation: CAS.Proposer.Operation
        var random: UInt64
    }

    struct ProposerState: Sendable {
        var key: [UInt8]
        var machine: CAS.Proposer
        var client: UInt64
    }

    /// What an acceptor of a key does next, run alone per key (`acceptorGate`).
    struct AcceptorJob: Sendable {
        enum Input: Sendable {
            /// A Paxos message from a proposer.
            case message(CAS.Message)
            /// Another member's state of the key, to merge (`NodeCore+CASHandoff`).
            case handedOff(CAS.AcceptorState)
        }

        var input: Input
        /// Where the reply goes: a peer's request, or this node's own proposer.
        var replyTo: AcceptorReply

        init(message: CAS.Message, replyTo: AcceptorReply) {
            input = .message(message)
            self.replyTo = replyTo
        }

        init(handedOff state: CAS.AcceptorState, group: UInt64) {
            input = .handedOff(state)
            replyTo = .group(group)
        }

        /// A prepare or propose: a request to promise or accept.
        var isProposerRequest: Bool {
            if case .message(let message) = input { message.isProposerRequest } else { false }
        }
    }

    enum AcceptorReply: Sendable {
        case peer(reply: UInt64)
        case local(proposer: UInt64, from: NodeID)
        /// A one-way message (commit): no reply.
        case none
        /// A handed-off state merged: one item of a group (a page of states).
        case group(UInt64)
    }

    /// A CAS operation on `key` (a compare-and-set, a blind write or a linearizable read).
    /// `random` seeds the proposer's backoff jitter. Answered by `.replyCAS`.
    public mutating func onClientCAS(client: UInt64, key: [UInt8], operation: CAS.Proposer.Operation, random: UInt64,
                                     now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        let view = clusterView(now: now)
        if let refusal = refusal(view) { return [.replyCAS(client: client, .failure(refusal))] }
        if settings.brokenLocalCASRead, operation == .read {
            // Broken on purpose (simulator only): answer from this node's own acceptor.
            let operationNumber = newOperation(.brokenLocalRead(client: client))
            let partition = view.ring!.partition(for: keyHash(key))
            return [.storage(operation: operationNumber, .readAcceptor(key: key, partition: partition))]
        }
        casWaiting[key, default: []].append(PendingCAS(client: client, operation: operation, random: random))
        return runNextCAS(key: key, view: view, now: now, wallNow: wallNow)
    }

    mutating func runNextCAS(key: [UInt8], view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard !casRunning.contains(key), var waiting = casWaiting[key], !waiting.isEmpty else { return [] }
        let next = waiting.removeFirst()
        casWaiting[key] = waiting.isEmpty ? nil : waiting
        guard let ring = view.ring else { return [.replyCAS(client: next.client, .failure(.noRing))] }
        let partition = ring.partition(for: keyHash(key))
        let configuration = CAS.Proposer.Configuration(
            acceptors: ring.preferenceList(for: partition, n: settings.replicas),
            phaseTimeoutMilliseconds: Int(settings.replicaTimeoutMilliseconds), maxAttempts: settings.casMaxAttempts,
            backoffBaseMilliseconds: settings.casBackoffBaseMilliseconds, backoffCapMilliseconds: settings.casBackoffCapMilliseconds)
        // Ballot counters above anything this node used or saw, and above the wall clock, so
        // proposers of different nodes order roughly by time (as Cassandra's do).
        var machine = CAS.Proposer(
            node: id, operation: next.operation, configuration: configuration,
            minimumCounter: max(wallNow.millisecondsSince1970, ballotCounter &+ 1), randomSeed: next.random, wallNow: wallNow)
        let number = newNumber()
        casRunning.insert(key)
        let effects = machine.start(now: now)
        proposers[number] = ProposerState(key: key, machine: machine, client: next.client)
        return performCAS(effects, proposer: number, view: view, now: now, wallNow: wallNow)
    }

    mutating func performCAS(_ effects: [CAS.Proposer.Effect], proposer number: UInt64, view: ClusterView, now: MonotonicTime,
                             wallNow: WallClockTime) -> [NodeCommand] {
        var commands: [NodeCommand] = []
        for effect in effects {
            guard let state = proposers[number] else { break }
            switch effect {
            case .send(let to, let message):
                if to == id {
                    commands += enterAcceptor(state.key, AcceptorJob(message: message, replyTo: .local(proposer: number, from: id)),
                                              view: view, now: now, wallNow: wallNow)
                } else if WireMessage.cas(key: state.key, message).role == .oneWay {
                    commands.append(.send(to: to, .cas(key: state.key, message)))
                } else {
                    let call = newCall(.cas(proposer: number, from: to))
                    commands.append(.request(call: call, to: to, .cas(key: state.key, message),
                                             timeoutMilliseconds: settings.requestTimeoutMilliseconds))
                }
            case .schedule(let timer, let at):
                commands.append(.schedule(.cas(proposer: number, timer), at: at))
            case .complete(let outcome):
                commands.append(.replyCAS(client: state.client, .success(outcome)))
                ballotCounter = max(ballotCounter, state.machine.highestCounterSeen)
                proposers[number] = nil
                casRunning.remove(state.key)
                commands += runNextCAS(key: state.key, view: view, now: now, wallNow: wallNow)
            }
        }
        return commands
    }

    mutating func feedProposer(_ number: UInt64, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime,
                               _ event: (inout CAS.Proposer) -> [CAS.Proposer.Effect]) -> [NodeCommand] {
        guard var state = proposers[number] else { return [] }
        let effects = event(&state.machine)
        proposers[number] = state
        return performCAS(effects, proposer: number, view: view, now: now, wallNow: wallNow)
    }

    // MARK: the acceptor

    mutating func enterAcceptor(_ key: [UInt8], _ job: AcceptorJob, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard let job = acceptorGate.enter(key, job) else { return [] }
        return runAcceptor(job, key: key, view: view, now: now, wallNow: wallNow)
    }

    mutating func runAcceptor(_ job: AcceptorJob, key: [UInt8], view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard let ring = view.ring else {
            return acceptorAnswered(job, key: key, reply: nil, failure: "no ring", view: view, now: now, wallNow: wallNow)
                + leaveAcceptor(key, view: view, now: now, wallNow: wallNow)
        }
        let partition = ring.partition(for: keyHash(key))
        if job.isProposerRequest, let refusal = acceptorRefusal(partition, ring: ring, view: view) {
            return acceptorAnswered(job, key: key, reply: nil, failure: refusal, view: view, now: now, wallNow: wallNow)
                + leaveAcceptor(key, view: view, now: now, wallNow: wallNow)
        }
        let operation = newOperation(.acceptorRead(key: key, partition: partition, job))
        return [.storage(operation: operation, .readAcceptor(key: key, partition: partition))]
    }

    /// The acceptor's state of `key` (and the key's object) was read: take the message; apply a
    /// commit to the object, persist the state, then reply.
    mutating func acceptorRead(key: [UInt8], partition: Int, job: AcceptorJob, _ result: StorageResult, view: ClusterView,
                               now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard case .acceptor(let state, let object) = result else {
            var commands = acceptorAnswered(job, key: key, reply: nil, failure: "the acceptor's state could not be read", view: view, now: now,
                                            wallNow: wallNow)
            commands += leaveAcceptor(key, view: view, now: now, wallNow: wallNow)
            return commands
        }
        var acceptor = CAS.Acceptor(state: state)
        var apply: CAS.Proposal?
        var persist: CAS.AcceptorState?
        var reply: CAS.Message?
        let effects = switch job.input {
        case .message(let message): acceptor.on(message, object: object)
        case .handedOff(let incoming): acceptor.onHandedOff(incoming)
        }
        for effect in effects {
            switch effect {
            case .apply(let proposal): apply = proposal
            case .persist(let state): persist = state
            case .reply(let message): reply = message
            }
        }
        guard let persist else {
            return acceptorAnswered(job, key: key, reply: reply, failure: nil, view: view, now: now, wallNow: wallNow)
                + leaveAcceptor(key, view: view, now: now, wallNow: wallNow)
        }
        if let apply {
            // Through the key's own order, like every other write of the object.
            return enter(key, .store(key: key, partition: partition, object: apply.object, hintFor: nil,
                                     then: .casCommit(key: key, job: job, state: persist, reply: reply)),
                         view: view, now: now, wallNow: wallNow)
        }
        let operation = newOperation(.acceptorWrite(key: key, job, reply: reply))
        return [.storage(operation: operation, .writePaxos(key: key, persist))]
    }

    /// A commit's write is merged into the key's object: now persist the acceptor's state.
    mutating func casCommitApplied(key: [UInt8], job: AcceptorJob, state: CAS.AcceptorState, reply: CAS.Message?,
                                   _ result: Result<Bool, StorageFailure>, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime)
        -> [NodeCommand]
    {
        if case .failure(let failure) = result {
            return [.notice(.storageFailed(context: "applying a CAS commit to the object", failure))]
                + acceptorAnswered(job, key: key, reply: nil, failure: failure.message, view: view, now: now, wallNow: wallNow)
                + leaveAcceptor(key, view: view, now: now, wallNow: wallNow)
        }
        let operation = newOperation(.acceptorWrite(key: key, job, reply: reply))
        return [.storage(operation: operation, .writePaxos(key: key, state))]
    }

    mutating func acceptorWritten(key: [UInt8], job: AcceptorJob, reply: CAS.Message?, _ result: StorageResult,
                                  view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        var commands: [NodeCommand]
        if case .failed(let failure) = result {
            // Not durable: no reply, so no proposer counts on a promise this node may forget.
            commands = [.notice(.storageFailed(context: "persisting an acceptor's state", failure))]
            commands += acceptorAnswered(job, key: key, reply: nil, failure: failure.message, view: view, now: now, wallNow: wallNow)
        } else {
            commands = acceptorAnswered(job, key: key, reply: reply, failure: nil, view: view, now: now, wallNow: wallNow)
        }
        return commands + leaveAcceptor(key, view: view, now: now, wallNow: wallNow)
    }

    mutating func acceptorAnswered(_ job: AcceptorJob, key: [UInt8], reply: CAS.Message?, failure: String?, view: ClusterView,
                                   now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        var reply = reply
        var failure = failure
        // The ring may have moved while the state was read and persisted: a node that has
        // stopped replicating the partition (and may have handed its states over already, or
        // be about to) must not count towards a majority, so its promise or acceptance is
        // withheld. The persisted state does no harm: no proposer counts it.
        if job.isProposerRequest, reply != nil, let ring = view.ring,
           let refusal = acceptorRefusal(ring.partition(for: keyHash(key)), ring: ring, view: view) {
            reply = nil
            failure = refusal
        }
        switch job.replyTo {
        case .none:
            return []
        case .peer(let peerReply):
            guard let reply else {
                return [.respond(reply: peerReply, .nack(reason: failure ?? "no answer to \(job.input)"))]
            }
            return [.respond(reply: peerReply, .cas(key: key, reply))]
        case .local(let proposer, let from):
            guard let reply else { return [] }
            return feedProposer(proposer, view: view, now: now, wallNow: wallNow) { $0.onMessage(reply, from: from, now: now) }
        case .group(let group):
            return finish(.group(group), failure.map { .failure(StorageFailure($0)) } ?? .success(true), now: now, wallNow: wallNow)
        }
    }

    /// Why this node may not promise or accept for `partition` now: it is not one of the
    /// partition's replicas in its own ring (a former replica, whose state no longer counts
    /// towards the new replicas' majorities), or the partition is still being handed to it
    /// (its object may lack what the handoff brings, so a promise could hide the current value).
    func acceptorRefusal(_ partition: Int, ring: Ring, view: ClusterView) -> String? {
        if !ring.preferenceList(for: partition, n: settings.replicas).contains(id) {
            return "this node does not replicate partition \(partition)"
        }
        if view.isPending(partition) { return "partition \(partition) is still being handed to this node" }
        if let awaited = casAwaiting[partition], !awaited.isEmpty {
            return "partition \(partition)'s Paxos states are still being gathered from \(awaited.count) member(s)"
        }
        return nil
    }

    mutating func leaveAcceptor(_ key: [UInt8], view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        guard let next = acceptorGate.leave(key) else { return [] }
        return runAcceptor(next, key: key, view: view, now: now, wallNow: wallNow)
    }
}

// MARK: collecting acceptor states

/// Acceptor states are kept per key forever unless collected: on each maintenance tick this
/// node examines one page of its stored states and removes those with nothing in progress whose
/// ballots are all older than `acceptorGraceMilliseconds` (docs/cas.md, "Collecting acceptor
/// states"). The executor first raises the node's *floor* (durably) to the highest counter
/// removed, and reads every state raised to it, so a delayed message from before the
/// collection is refused as the removed state would have refused it. The key's value lives on
/// in its object; only the Paxos bookkeeping goes.
extension NodeCore {
    mutating func collectAcceptorsTick(wallNow: WallClockTime) -> [NodeCommand] {
        // One collector per node, over the whole Paxos store: the home instance.
        guard shard.isHome, settings.acceptorGraceMilliseconds > 0, !acceptorCollecting,
              wallNow.millisecondsSince1970 > settings.acceptorGraceMilliseconds else { return [] }
        acceptorCollecting = true
        return [.storage(operation: newOperation(.acceptorsCollected), .collectAcceptors(
            after: acceptorCollectAfter, limit: settings.acceptorCollectBatch, belowCounter: wallNow.millisecondsSince1970 - settings.acceptorGraceMilliseconds))]
    }

    mutating func acceptorsCollected(_ result: StorageResult) -> [NodeCommand] {
        acceptorCollecting = false
        switch result {
        case .collected(let count, let next):
            acceptorCollectAfter = next
            return count > 0 ? [.notice(.acceptorsCollected(count))] : []
        case .failed(let failure):
            return [.notice(.storageFailed(context: "collecting acceptor states", failure))]
        default:
            return []
        }
    }
}

extension StorageResult {
    /// How an executor answers `.collectAcceptors`, given `page`: the first `limit + 1` keys
    /// with a stored state after the cursor (or all, if fewer), in key order, with their
    /// states. The first `limit` are examined; returns the keys to remove (each only if still
    /// collectable when it is removed), the floor to make durable before any removal, and
    /// where the next page starts (nil: from the beginning again).
    public static func acceptorCollection(page: [(key: [UInt8], state: CAS.AcceptorState)], limit: Int, belowCounter: UInt64)
        -> (remove: [[UInt8]], floor: UInt64, next: [UInt8]?)
    {
        let examined = page.prefix(limit)
        let collectable = examined.filter { $0.state.isCollectable(below: belowCounter) }
        let floor = collectable.map(\.state.highestCounter).max() ?? 0
        return (collectable.map(\.key), floor, page.count > limit ? examined.last?.key : nil)
    }
}
