import CairnCore

/// Client requests: reads and writes through the quorum coordinators, and their effects.
extension NodeCore {
    /// A GET of `key` with read quorum `r` (the default when nil). Answered by `.replyRead`.
    public mutating func onClientRead(client: UInt64, key: [UInt8], r: Int?, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        let view = clusterView(now: now)
        if let refusal = refusal(view) { return [.replyRead(client: client, .failed(refusal))] }
        guard let ring = view.ring else { return [] }
        return startRead(client: client, key: key, r: r, then: nil, ring: ring, view: view, now: now, wallNow: wallNow)
    }

    /// Why a new client request is refused at once: too many in flight, or no ring yet.
    func refusal(_ view: ClusterView) -> RequestFailure? {
        if requestsInFlight >= settings.maxRequestsInFlight { return .overloaded(limit: settings.maxRequestsInFlight) }
        if view.ring == nil { return .noRing }
        return nil
    }

    mutating func startRead(client: UInt64, key: [UInt8], r: Int?, then write: PlainWrite?, ring: Ring, view: ClusterView,
                            now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        let hash = keyHash(key)
        let partition = ring.partition(for: hash)
        let request = Quorum.ReadCoordinator<[UInt8]>.Request(
            keyHash: hash, partition: partition, preferenceList: ring.preferenceList(for: partition, n: settings.replicas),
            extendedList: ring.extendedList(for: partition), r: r ?? settings.readQuorum, n: settings.replicas,
            timeoutMilliseconds: settings.requestTimeoutMilliseconds,
            repairWindowMilliseconds: settings.readRepairWindowMilliseconds)
        let number = newNumber()
        var state = ReadState(key: key, machine: Quorum.ReadCoordinator(request: request, local: id), client: client, thenWrite: write)
        let effects = state.machine.start(now: now, isReachable: view.isReachable)
        reads[number] = state
        return performRead(effects, request: number, view: view, now: now, wallNow: wallNow)
    }

    /// A PUT (a value sibling) or DELETE (`.tombstone`) that supersedes what `supersedes` says,
    /// with write quorum `w` (the default when nil). Answered by `.replyWrite`.
    ///
    /// A plain write (`.current`) first reads the key from the default read quorum, as a GET
    /// would (read repair included), and then writes with the context of what it read; a
    /// failed read fails the write, with nothing written. A plain DELETE that reads nothing
    /// but tombstones writes nothing and answers with the read's context. (A value that is
    /// only expired is still deleted: another node's clock may not see it expired yet.) A
    /// conditional write (`.contextIfCurrent`, `.currentIfLive`, `.currentIfAbsent`) reads the
    /// same way and writes only when the read meets its condition; otherwise it writes nothing
    /// and answers `.preconditionFailed` with the read's context.
    public mutating func onClientWrite(
        client: UInt64, key: [UInt8], sibling: Sibling<[UInt8]>, supersedes: Supersedes, w: Int?, now: MonotonicTime,
        wallNow: WallClockTime
    ) -> [NodeCommand] {
        let view = clusterView(now: now)
        if let refusal = refusal(view) { return [.replyWrite(client: client, .failed(refusal))] }
        guard let ring = view.ring else { return [] }
        var sibling = sibling
        if sibling.content == .tombstone && sibling.expiry == nil {
            // The deletion time, from which the reaper's grace period runs.
            sibling = .tombstone(deletedAt: wallNow)
        }
        var context = supersedes.knownContext
        if supersedes == .current && settings.brokenPlainWritesBlind { context = CausalContext() }
        guard let context else {
            return startRead(client: client, key: key, r: nil, then: PlainWrite(sibling: sibling, supersedes: supersedes, w: w),
                             ring: ring, view: view, now: now, wallNow: wallNow)
        }
        let request = writeRequest(ring: ring, key: key, context: context, sibling: sibling, w: w ?? settings.writeQuorum)
        return startWrite(key: key, request: request, origin: .client(client), view: view, now: now, wallNow: wallNow)
    }

    /// The write half of a plain or conditional write, once its read answered.
    mutating func plainWriteRead(_ write: PlainWrite, client: UInt64, key: [UInt8], outcome: Quorum.ReadCoordinator<[UInt8]>.Outcome,
                                 view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        let object: DVVSet<[UInt8]>?
        switch outcome {
        case .failed(let failure):
            return [.replyWrite(client: client, .failed(.quorum(failure)))]
        case .notFound:
            object = nil
        case .found(let found):
            guard !found.isCASManaged else {
                return [.replyWrite(client: client, .failed(.quorum(Quorum.Failure(
                    keyHash: keyHash(key), reason: .rejected(DVVSet<[UInt8]>.casManagedError)))))]
            }
            object = found
        }
        let read = object?.join() ?? CausalContext()
        guard let context = write.supersedes.context(after: object, at: wallNow) else {
            return [.replyWrite(client: client, .preconditionFailed(read))]
        }
        let holdsValue = !(object?.values(at: .zero).isEmpty ?? true)
        if write.sibling.content == .tombstone && !holdsValue {
            return [.replyWrite(client: client, .stored(read))]
        }
        guard let ring = view.ring else { return [.replyWrite(client: client, .failed(.noRing))] }
        let request = writeRequest(ring: ring, key: key, context: context, sibling: write.sibling, w: write.w ?? settings.writeQuorum)
        return startWrite(key: key, request: request, origin: .client(client), view: view, now: now, wallNow: wallNow)
    }

    func writeRequest(ring: Ring, key: [UInt8], context: CausalContext, sibling: Sibling<[UInt8]>, w: Int,
                      forwardedBy: NodeID? = nil) -> Quorum.WriteCoordinator<[UInt8]>.Request {
        let hash = keyHash(key)
        let partition = ring.partition(for: hash)
        return Quorum.WriteCoordinator<[UInt8]>.Request(
            keyHash: hash, partition: partition, preferenceList: ring.preferenceList(for: partition, n: settings.replicas),
            extendedList: ring.extendedList(for: partition), context: context, sibling: sibling, w: w,
            n: settings.replicas, timeoutMilliseconds: settings.requestTimeoutMilliseconds, forwardedBy: forwardedBy)
    }

    mutating func startWrite(key: [UInt8], request: Quorum.WriteCoordinator<[UInt8]>.Request, origin: WriteOrigin,
                             view: ClusterView, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        let number = newNumber()
        var state = WriteState(key: key, machine: Quorum.WriteCoordinator(request: request, local: id), origin: origin)
        let effects = state.machine.start(now: now, isReachable: view.isReachable)
        writes[number] = state
        return performWrite(effects, request: number, view: view, now: now, wallNow: wallNow)
    }

    /// A timer the core scheduled has come due. `random` feeds gossip's choice of peer.
    public mutating func onTimer(_ timer: NodeTimer, random: UInt64, now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        let view = clusterView(now: now)
        switch timer {
        case .write(let request, let timer):
            return feedWrite(request, view: view, now: now, wallNow: wallNow) { $0.onTimer(timer, now: now) }
        case .read(let request, let timer):
            return feedRead(request, view: view, now: now, wallNow: wallNow) { $0.onTimer(timer, now: now) }
        case .cas(let proposer, let timer):
            return feedProposer(proposer, view: view, now: now, wallNow: wallNow) { $0.onTimer(timer, now: now) }
        case .membership:
            return membershipTick(random: random, now: now, wallNow: wallNow)
        case .maintenance:
            return maintenance(view: view, now: now, wallNow: wallNow)
                + [.schedule(.maintenance, at: now + settings.maintenanceIntervalMilliseconds)]
        case .handoff:
            return startNextTransfer(now: now, wallNow: wallNow)
        case .handoffSender(let transfer, let run):
            return feedSender(transfer, run: run, now: now, wallNow: wallNow) { $0.onTimer(.wake, now: now) }
        }
    }

    // MARK: write effects

    mutating func feedWrite(
        _ request: UInt64, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime,
        _ event: (inout Quorum.WriteCoordinator<[UInt8]>) -> [Quorum.WriteCoordinator<[UInt8]>.Effect]
    ) -> [NodeCommand] {
        guard var state = writes[request] else { return [] }
        let effects = event(&state.machine)
        writes[request] = state
        return performWrite(effects, request: request, view: view, now: now, wallNow: wallNow)
    }

    mutating func performWrite(_ effects: [Quorum.WriteCoordinator<[UInt8]>.Effect], request: UInt64, view: ClusterView,
                               now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        var commands: [NodeCommand] = []
        for effect in effects {
            guard let state = writes[request] else { break }
            switch effect {
            case .schedule(let timer, let deadline):
                commands.append(.schedule(.write(request: request, timer), at: deadline))
            case .forward(let to, let forwarded):
                let message = WireMessage.forwardedWrite(ForwardedWrite(
                    key: state.key, context: forwarded.context, sibling: forwarded.sibling, w: forwarded.w, n: forwarded.n,
                    timeoutMilliseconds: forwarded.timeoutMilliseconds, forwardedBy: id, forwardID: newForwardID()))
                let call = newCall(.forward(request: request, to: to))
                commands.append(.request(call: call, to: to, message, timeoutMilliseconds: settings.requestTimeoutMilliseconds))
            case .coordinateLocally(let context, let sibling, let hintFor):
                writes[request]?.coordination = Coordination(context: context, sibling: sibling, hintFor: hintFor)
                commands += enter(state.key, .coordinate(request: request), view: view, now: now, wallNow: wallNow)
            case .replicate(let to, let object, let hintFor):
                writes[request]?.outstanding.insert(to)
                let message = WireMessage.replicate(Replicate(key: state.key, partition: state.partition, object: object, hintFor: hintFor))
                let call = newCall(.replicate(request: request, to: to))
                commands.append(.request(call: call, to: to, message, timeoutMilliseconds: settings.replicaTimeoutMilliseconds))
            case .storeHint(let owner, let object):
                commands += enter(state.key, .store(key: state.key, partition: state.partition, object: object, hintFor: owner, then: .none),
                                  view: view, now: now, wallNow: wallNow)
            case .reply(let outcome):
                switch state.origin {
                case .client(let client)?:
                    switch outcome {
                    case .stored(let context): commands.append(.replyWrite(client: client, .stored(context)))
                    case .failed(let failure): commands.append(.replyWrite(client: client, .failed(.quorum(failure))))
                    }
                case .forwarded(let reply)?:
                    commands.append(.respond(reply: reply, .writeOutcome(outcome)))
                case nil:
                    break
                }
                writes[request]?.origin = nil
            }
        }
        if writes[request]?.isSettled == true { writes[request] = nil }
        return commands
    }

    // MARK: read effects

    mutating func feedRead(
        _ request: UInt64, view: ClusterView, now: MonotonicTime, wallNow: WallClockTime,
        _ event: (inout Quorum.ReadCoordinator<[UInt8]>) -> [Quorum.ReadCoordinator<[UInt8]>.Effect]
    ) -> [NodeCommand] {
        guard var state = reads[request] else { return [] }
        let effects = event(&state.machine)
        reads[request] = state
        return performRead(effects, request: request, view: view, now: now, wallNow: wallNow)
    }

    mutating func performRead(_ effects: [Quorum.ReadCoordinator<[UInt8]>.Effect], request: UInt64, view: ClusterView,
                              now: MonotonicTime, wallNow: WallClockTime) -> [NodeCommand] {
        var commands: [NodeCommand] = []
        var pending = effects[...]
        while let effect = pending.popFirst() {
            guard let state = reads[request] else { break }
            switch effect {
            case .schedule(let timer, let deadline):
                commands.append(.schedule(.read(request: request, timer), at: deadline))
            case .read(let from):
                if from == id {
                    if view.isPending(state.partition) {
                        var machine = state.machine
                        pending.append(contentsOf: machine.onReadFailed(from: from, now: now))
                        reads[request]?.machine = machine
                    } else {
                        let operation = newOperation(.localRead(request: request))
                        commands.append(.storage(operation: operation, .read(
                            key: state.key, partition: state.partition, hints: hintIDs(state.key))))
                    }
                } else {
                    let call = newCall(.read(request: request, from: from))
                    commands.append(.request(
                        call: call, to: from, .read(ReadRequest(key: state.key, partition: state.partition)),
                        timeoutMilliseconds: settings.requestTimeoutMilliseconds))
                }
            case .reply(let outcome):
                reads[request]?.answered = true
                if let write = state.thenWrite {
                    commands += plainWriteRead(write, client: state.client, key: state.key, outcome: outcome, view: view, now: now, wallNow: wallNow)
                    continue
                }
                let result: ClientReadResult
                switch outcome {
                case .found(let object): result = .found(object)
                case .notFound: result = .notFound
                case .failed(let failure): result = .failed(.quorum(failure))
                }
                commands.append(.replyRead(client: state.client, result))
            case .repair(let to, let object, let hintFor):
                commands.append(.notice(.readRepair))
                if to == id {
                    commands += enter(state.key, .store(key: state.key, partition: state.partition, object: object, hintFor: hintFor, then: .none),
                                      view: view, now: now, wallNow: wallNow)
                } else {
                    commands.append(.send(to: to, .readRepair(Replicate(key: state.key, partition: state.partition, object: object, hintFor: hintFor))))
                }
            }
        }
        if reads[request]?.machine.isFinished == true { reads[request] = nil }
        return commands
    }

    public func hintIDs(_ key: [UInt8]) -> [UInt64] { hintKeys[key].map { $0.sorted() } ?? [] }
}
