import CairnCore

/// Compare-and-set in the node shell: one proposer per key on a node (later operations wait
/// their turn), acceptors whose state is durable before they answer.
extension Simulation {
    func startCAS(key: Int, _ casOperation: CAS.Proposer.Operation, at node: Int, client: Int, operation: UInt64) {
        if options.broken == .localCASRead, casOperation == .read {
            // Broken on purpose: answer from this node's own acceptor, as if it were current.
            let value = nodes[node].acceptors[key]?.committed.value
            reply(to: client, operation: operation, .cas(.read(current: value)))
            return
        }
        nodes[node].casWaiting[key, default: []].append(
            SimNode.PendingCAS(client: client, operation: operation, casOperation: casOperation))
        runNextCAS(key: key, at: node)
    }

    func runNextCAS(key: Int, at node: Int) {
        guard !nodes[node].casRunning.contains(key), var waiting = nodes[node].casWaiting[key], !waiting.isEmpty,
              let ring = ring(at: node) else { return }
        let next = waiting.removeFirst()
        nodes[node].casWaiting[key] = waiting.isEmpty ? nil : waiting
        let partition = ring.partition(for: SimKeys.hash(key))
        let configuration = CAS.Proposer.Configuration(
            acceptors: ring.preferenceList(for: partition, n: options.n), phaseTimeoutMilliseconds: 300,
            maxAttempts: 10, backoffBaseMilliseconds: 20, backoffCapMilliseconds: 400)
        // A ballot counter above anything this node has seen for the key, and above the clock
        // (a clock reading orders ballots of different nodes roughly by time, as Cassandra does).
        let minimum = max(queue.now, (nodes[node].casCounter[key] ?? 0) + 1)
        var machine = CAS.Proposer(
            node: nodes[node].id, operation: next.casOperation, configuration: configuration,
            minimumCounter: minimum, randomSeed: nodeRandom.next())
        let id = nodes[node].nextRequest
        nodes[node].nextRequest += 1
        nodes[node].casRunning.insert(key)
        let effects = machine.start()
        nodes[node].proposers[id] = SimNode.ProposerState(key: key, machine: machine, client: next.client, operation: next.operation)
        performCAS(effects, node: node, operation: id)
    }

    func performCAS(_ effects: [CAS.Proposer.Effect], node: Int, operation: UInt64) {
        for effect in effects {
            guard let state = nodes[node].proposers[operation] else { return }
            switch effect {
            case .send(let to, let message):
                send(.casRequest(operation: operation, key: state.key, message), from: node, to: nodeIndex(to))
            case .startTimer(let timer, let after):
                queue.schedule(.casTimer(node: node, generation: nodes[node].generation, operation: operation, timer),
                               after: UInt64(after))
            case .complete(let outcome):
                reply(to: state.client, operation: state.operation, .cas(outcome))
                nodes[node].casCounter[state.key] = max(nodes[node].casCounter[state.key] ?? 0, state.machine.highestCounterSeen)
                nodes[node].proposers[operation] = nil
                nodes[node].casRunning.remove(state.key)
                runNextCAS(key: state.key, at: node)
            }
        }
    }

    /// An acceptor's state is made durable before its reply leaves (persist, then reply).
    func acceptorReceived(_ message: CAS.Message, key: Int, operation: UInt64, at node: Int, from: Int) {
        var acceptor = CAS.Acceptor(state: nodes[node].acceptors[key] ?? CAS.AcceptorState())
        for effect in acceptor.on(message) {
            switch effect {
            case .persist(let state):
                nodes[node].acceptors[key] = state
            case .reply(let reply):
                send(.casReply(operation: operation, key: key, reply), from: node, to: from)
            }
        }
    }

    func proposerReceived(_ message: CAS.Message, key: Int, operation: UInt64, at node: Int, from: Int) {
        guard var state = nodes[node].proposers[operation] else { return }
        let effects = state.machine.onMessage(message, from: nodes[from].id)
        nodes[node].proposers[operation] = state
        performCAS(effects, node: node, operation: operation)
    }
}
