import CairnCore
import CairnHTTP
import CairnTransport
import CairnWire

/// Compare-and-set in the node shell, as `Simulation+CAS` plays it: one `CAS.Proposer` per
/// operation (one at a time per key on a node), acceptors on the key's N primaries whose state
/// is durable before they answer.
extension Node {
    private enum ProposerEvent: Sendable {
        case reply(CAS.Message, from: NodeID)
        case timer(CAS.Proposer.Timer)
    }

    /// Runs one CAS on `key` through Paxos among the key's primaries.
    func compareAndSet(key: [UInt8], operation: CAS.Proposer.Operation) async throws -> CAS.Proposer.Outcome {
        let ring = try currentRing()
        let partition = ring.partition(for: ReplicaStore.keyHash(key))
        let configuration = CAS.Proposer.Configuration(
            acceptors: ring.preferenceList(for: partition, n: self.configuration.replicas),
            phaseTimeoutMilliseconds: Int(self.configuration.requestTimeoutMilliseconds / 2), maxAttempts: 10,
            backoffBaseMilliseconds: 20, backoffCapMilliseconds: 400)
        // One proposer per key on this node (the proposer's duty 4, docs/cas.md).
        await lockKey(key, in: .proposer)
        defer { unlockKey(key, in: .proposer) }
        // Ballot counters above anything this node used or saw, and above the clock, so
        // proposers of different nodes order roughly by time (as Cassandra's do).
        var proposer = CAS.Proposer(
            node: id, operation: operation, configuration: configuration,
            minimumCounter: max(wallNow(), ballotCounter + 1), randomSeed: UInt64.random(in: 0...UInt64.max))
        let (events, sink) = AsyncStream.makeStream(of: ProposerEvent.self)
        defer { sink.finish() }
        var iterator = events.makeAsyncIterator()
        var effects = proposer.start()
        var outcome: CAS.Proposer.Outcome?
        while outcome == nil {
            for effect in effects {
                switch effect {
                case .send(let to, let message):
                    sendToAcceptor(message, key: key, partition: partition, to: to, sink: sink)
                case .startTimer(let timer, let after):
                    Task {
                        try? await Task.sleep(for: .milliseconds(after))
                        sink.yield(.timer(timer))
                    }
                case .complete(let result):
                    outcome = result
                }
            }
            guard outcome == nil else { break }
            guard let event = await iterator.next() else { break }
            logger.trace("CAS proposer event", metadata: ["cairn.event": "\(event)"])
            switch event {
            case .reply(let message, let from): effects = proposer.onMessage(message, from: from)
            case .timer(let timer): effects = proposer.onTimer(timer)
            }
        }
        ballotCounter = max(ballotCounter, proposer.highestCounterSeen)
        return outcome ?? .unavailable
    }

    /// Sends one proposer message to one acceptor (this node's own acceptor directly); a
    /// reply comes back through `sink`. Commits are one-way.
    private func sendToAcceptor(_ message: CAS.Message, key: [UInt8], partition: Int, to: NodeID,
                                sink: AsyncStream<ProposerEvent>.Continuation) {
        if to == id {
            Task {
                if let reply = try? await self.acceptorReceived(message, key: key) { sink.yield(.reply(reply, from: to)) }
            }
            return
        }
        guard let address = address(of: to) else { return }
        let wire = WireMessage.cas(key: key, message)
        if wire.messageType.role == .oneWay {
            Task { try? await pool.send(wire, to: address) }
            return
        }
        Task {
            if case .cas(_, let reply)? = try? await pool.request(wire, to: address, timeout: requestTimeout) {
                sink.yield(.reply(reply, from: to))
            }
        }
    }

    /// An acceptor's step: its state for `key` is durable before its reply leaves.
    func acceptorReceived(_ message: CAS.Message, key: [UInt8]) async throws -> CAS.Message? {
        await lockKey(key, in: .acceptor)
        defer { unlockKey(key, in: .acceptor) }
        var acceptor = CAS.Acceptor(state: try paxos.state(key))
        var reply: CAS.Message?
        for effect in acceptor.on(message) {
            switch effect {
            case .persist(let state): try await paxos.save(key, state)
            case .reply(let message): reply = message
            }
        }
        return reply
    }
}

extension NodeService {
    public func cas(key: [UInt8], expected: [UInt8]?, new: [UInt8]?) async throws -> CASOutcome {
        switch try await node.compareAndSet(key: key, operation: .compareAndSet(expected: expected, new: new)) {
        case .applied: return .applied
        case .failed(let current): return .failed(current: current)
        case .read(let current): return .failed(current: current)
        case .unknown:
            throw KeyValueServiceError(.outcomeUnknown, "the new value was proposed and may or may not be chosen; read to find out")
        case .unavailable:
            throw KeyValueServiceError(
                .quorumUnavailable, "no majority of the key's replicas answered; nothing was written",
                required: node.configuration.replicas / 2 + 1, acknowledged: 0)
        }
    }
}
