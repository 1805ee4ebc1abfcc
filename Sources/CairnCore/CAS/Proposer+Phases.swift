extension CAS.Proposer {
    /// A reply from an acceptor. Replies to other ballots or phases, from non-acceptors, or
    /// repeated by the same acceptor are ignored.
    public mutating func onMessage(_ message: CAS.Message, from sender: NodeID, now: MonotonicTime) -> [Effect] {
        guard configuration.acceptors.contains(sender) else { return [] }
        self.now = now
        switch (message, phase) {
        case (.promise(let b, let accepted, let committed, let object), .preparing) where b == ballot:
            guard replied.insert(sender).inserted else { return [] }
            see(accepted?.ballot)
            see(committed.ballot)
            promises.append((accepted, committed, object))
            return promises.count >= configuration.majority ? promised() : []
        case (.prepareRejected(let b, let promised), .preparing) where b == ballot,
             (.proposeRejected(let b, let promised), .repairing) where b == ballot,
             (.proposeRejected(let b, let promised), .proposing) where b == ballot:
            guard replied.insert(sender).inserted else { return [] }
            see(promised)
            let rejected = replied.count - positive
            // Contention once a majority can no longer be reached.
            return rejected > configuration.acceptors.count - configuration.majority ? contended() : []
        case (.accepted(let b), .repairing(let proposal)) where b == ballot,
             (.accepted(let b), .proposing(let proposal)) where b == ballot:
            guard replied.insert(sender).inserted else { return [] }
            positive += 1
            guard positive >= configuration.majority else { return [] }
            var repair = false
            if case .repairing = phase { repair = true }
            return enter(.committing(proposal, repair: repair), sending: .commit(proposal))
        case (.committed(let b), .committing(_, let repair)) where b == ballot:
            guard replied.insert(sender).inserted else { return [] }
            positive += 1
            guard positive >= configuration.majority else { return [] }
            return repair ? prepare() : finish(.applied)
        default:
            return []
        }
    }

    /// An acceptor refused to take part in the current phase without naming a ballot (it does
    /// not replicate the key's partition in its own ring yet, or is still gathering its Paxos
    /// states): counted as a rejection, so that once a majority can no longer be reached the
    /// proposer backs off and tries again rather than wait out the phase and give up.
    public mutating func onRefused(from sender: NodeID, now: MonotonicTime) -> [Effect] {
        guard configuration.acceptors.contains(sender) else { return [] }
        self.now = now
        switch phase {
        case .preparing, .repairing, .proposing:
            guard replied.insert(sender).inserted else { return [] }
            let rejected = replied.count - positive
            return rejected > configuration.acceptors.count - configuration.majority ? contended() : []
        default:
            return []
        }
    }

    mutating func see(_ ballot: CAS.Ballot?) {
        if let ballot { highestCounterSeen = max(highestCounterSeen, ballot.counter) }
    }

    /// A new attempt: a ballot above everything seen, a prepare to every acceptor.
    mutating func prepare() -> [Effect] {
        guard attempts < configuration.maxAttempts else { return giveUp() }
        attempts += 1
        // Counters from peers are bounded when decoded (2^62); spent, the proposer gives up.
        guard highestCounterSeen < UInt64.max else { return giveUp() }
        highestCounterSeen += 1
        ballot = CAS.Ballot(counter: highestCounterSeen, node: node)
        return enter(.preparing, sending: .prepare(ballot))
    }

    /// A majority promised: finish what is in progress, or read, compare and propose.
    mutating func promised() -> [Effect] {
        let mostRecent = promises.map(\.committed).max { $0.ballot < $1.ballot } ?? .initial
        let inProgress = promises.compactMap(\.accepted)
            .filter { $0.ballot > mostRecent.ballot }
            .max { $0.ballot < $1.ballot }
        if let inProgress {
            let repair = inProgress.reballoted(ballot)
            return enter(.repairing(repair), sending: .propose(repair))
        }
        // This operation's value was proposed in an earlier attempt and may have been chosen
        // (a minority that accepted it can have it completed later). Proposing it again could
        // apply it a second time, after writes that followed the first (a blind write
        // reappearing; a CAS over an A-B-A history), so the outcome is unknown.
        if mayHaveWritten { return finish(.unknown) }
        var read = DVVSet<[UInt8]>()
        for object in promises.compactMap(\.object) { read.sync(with: object) }
        let live = read.values(at: wallNow)
        switch operation {
        case .read:
            return finish(live.count > 1 ? .siblings(live) : .read(current: live.first))
        case .write(let new):
            let proposal = CAS.Proposal(ballot: ballot, value: new, context: read.join(), wallTime: wallNow)
            mayHaveWritten = true
            return enter(.proposing(proposal), sending: .propose(proposal))
        case .compareAndSet(let expected, let new):
            guard live.count <= 1 else { return finish(.siblings(live)) }
            guard live.first == expected else {
                return finish(.failed(current: live.first))
            }
            let proposal = CAS.Proposal(ballot: ballot, value: new, context: read.join(), wallTime: wallNow)
            mayHaveWritten = true
            return enter(.proposing(proposal), sending: .propose(proposal))
        }
    }

    /// Lost to a higher ballot: back off and retry, or give up after the last attempt.
    mutating func contended() -> [Effect] {
        guard attempts < configuration.maxAttempts else { return giveUp() }
        let exponent = min(attempts - 1, 20)
        let bound = min(configuration.backoffCapMilliseconds, configuration.backoffBaseMilliseconds << exponent)
        let delay = Int(nextRandom() % UInt64(bound + 1))
        phase = .backingOff
        phaseNumber += 1
        return [.schedule(Timer(kind: .backoff, phase: phaseNumber), at: now + UInt64(delay))]
    }

    /// No result: `.unknown` if our value may have been accepted anywhere, else `.unavailable`.
    mutating func giveUp() -> [Effect] {
        finish(mayHaveWritten ? .unknown : .unavailable)
    }

    mutating func finish(_ outcome: Outcome) -> [Effect] {
        phase = .done(outcome)
        phaseNumber += 1
        return [.complete(outcome)]
    }

    mutating func enter(_ next: Phase, sending message: CAS.Message) -> [Effect] {
        phase = next
        phaseNumber += 1
        replied = []
        positive = 0
        promises = []
        return broadcast(message)
            + [.schedule(Timer(kind: .phaseTimeout, phase: phaseNumber), at: now + UInt64(configuration.phaseTimeoutMilliseconds))]
    }

    func broadcast(_ message: CAS.Message) -> [Effect] {
        configuration.acceptors.map { .send(to: $0, message) }
    }

    /// The next draw from the seed the caller gave.
    mutating func nextRandom() -> UInt64 { random.next() }
}
