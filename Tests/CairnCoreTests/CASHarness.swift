@testable import CairnCore
import CairnCheck
import CairnSim

/// Bytes for a unique integer value (the harness's writes), and back.
func casBytes(_ n: Int?) -> CAS.Value {
    n.map { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * (3 - $0))) } }
}

func casInt(_ bytes: CAS.Value) -> Int? {
    bytes.map { $0.reduce(0) { $0 << 8 | Int($1) } }
}

/// A synchronous bench for table cases: three acceptors, FIFO delivery, a chosen set of
/// reachable acceptors and a filter that can drop replies on their way back.
struct CASBench {
    let acceptorIDs = (1...3).map { NodeID(high: 0xA, low: UInt64($0)) }
    var acceptors: [NodeID: CAS.Acceptor] = [:]
    /// Each acceptor's object of the key, where commits are applied.
    var objects: [NodeID: DVVSet<[UInt8]>] = [:]
    var reachable: Set<NodeID>
    /// Every persist effect, in order, per acceptor.
    var persisted: [NodeID: [CAS.AcceptorState]] = [:]

    init() {
        reachable = Set(acceptorIDs)
        for id in acceptorIDs { acceptors[id] = CAS.Acceptor() }
    }

    var configuration: CAS.Proposer.Configuration {
        .init(acceptors: acceptorIDs, phaseTimeoutMilliseconds: 100, maxAttempts: 4)
    }

    func proposer(_ node: UInt64, _ operation: CAS.Proposer.Operation, minimumCounter: UInt64 = 1) -> CAS.Proposer {
        CAS.Proposer(node: NodeID(high: 0xB, low: node), operation: operation, configuration: configuration,
                     minimumCounter: minimumCounter, randomSeed: node)
    }

    /// Carries out `effects` until nothing is in flight. Returns the timers asked for, last last.
    @discardableResult
    mutating func pump(_ proposer: inout CAS.Proposer, _ effects: [CAS.Proposer.Effect],
                       dropReply: (NodeID, CAS.Message) -> Bool = { _, _ in false }) -> [CAS.Proposer.Timer] {
        var queue = effects[...]
        var timers: [CAS.Proposer.Timer] = []
        while let effect = queue.popFirst() {
            switch effect {
            case .send(let to, let message):
                guard reachable.contains(to) else { continue }
                for reply in deliver(message, to: to) where !dropReply(to, reply) {
                    queue.append(contentsOf: proposer.onMessage(reply, from: to, now: .zero))
                }
            case .schedule(let timer, _):
                timers.append(timer)
            case .complete:
                break
            }
        }
        return timers
    }

    /// Hands `message` to acceptor `to`, records its persists, returns its replies.
    mutating func deliver(_ message: CAS.Message, to: NodeID) -> [CAS.Message] {
        var replies: [CAS.Message] = []
        for effect in acceptors[to]!.on(message, object: objects[to]) {
            switch effect {
            case .apply(let proposal): objects[to] = DVVSet.sync(objects[to] ?? DVVSet(), proposal.object)
            case .persist(let state): persisted[to, default: []].append(state)
            case .reply(let reply): replies.append(reply)
            }
        }
        return replies
    }

    /// The live value of acceptor `id`'s object (nil: absent or several).
    func objectValue(_ id: NodeID) -> CAS.Value {
        let live = objects[id]?.values(at: .zero) ?? []
        return live.count == 1 ? live[0] : nil
    }

    /// Runs a whole operation with everything reachable and returns its outcome.
    mutating func run(_ node: UInt64, _ operation: CAS.Proposer.Operation) -> CAS.Proposer.Outcome? {
        var p = proposer(node, operation)
        finish(&p, p.start(now: .zero))
        return p.outcome
    }

    /// Pumps, firing backoff timers as they come, until the proposer ends or waits on a phase
    /// timeout (which the test fires, if it wants to).
    @discardableResult
    mutating func finish(_ proposer: inout CAS.Proposer, _ effects: [CAS.Proposer.Effect]) -> [CAS.Proposer.Timer] {
        var timers = pump(&proposer, effects)
        while proposer.outcome == nil, let last = timers.last, last.kind == .backoff {
            timers = pump(&proposer, proposer.onTimer(last, now: .zero))
        }
        return timers
    }

    func committed(_ id: NodeID) -> CAS.Value { acceptors[id]!.state.committed.value }
}

/// A seeded simulation: 3 acceptors, several concurrent proposers running operation after
/// operation, random message delays (so random delivery order), drops, duplicates and
/// acceptor crash-restarts that keep only what was persisted. It records the history the
/// clients saw. A failing seed replays exactly.
struct CASSimulation {
    struct Settings {
        var seed: UInt64
        var proposers = 3
        var operationsPerProposer = 12
        var dropPercent = 5
        var duplicatePercent = 5
        var crashes = 2
        /// The deliberately broken acceptor: it forgets every promise right after making it.
        var forgetPromises = false
    }

    enum Event {
        case deliver(from: NodeID, to: NodeID, CAS.Message)
        case timer(client: Int, operation: Int, CAS.Proposer.Timer)
        case invoke(client: Int)
        case crash(NodeID)
        case restart(NodeID)
    }

    struct Client {
        var node: NodeID
        var proposer: CAS.Proposer?
        var operation = 0
        var historyIndex = 0
        var lastSeen: Int?
        var nextCounter: UInt64 = 1
    }

    let settings: Settings
    var rng: SplitMix64
    let acceptorIDs = (1...3).map { NodeID(high: 0xA, low: UInt64($0)) }
    var acceptors: [NodeID: CAS.Acceptor] = [:]
    var durable: [NodeID: CAS.AcceptorState] = [:]
    /// Each acceptor's object of the key (durable: a commit is applied before it is recorded).
    var objects: [NodeID: DVVSet<[UInt8]>] = [:]
    var down: Set<NodeID> = []
    var clients: [Client] = []
    var queue: [(time: Int, sequence: Int, event: Event)] = []
    var now = 0
    /// `now` as the proposers' monotonic clock.
    var clock: MonotonicTime { MonotonicTime(milliseconds: UInt64(now)) }
    var sequence = 0
    var tick = 0
    var nextValue = 1
    var history: [RegisterOp] = []
    var excluded: Set<Int> = []
    /// Problems found by the harness itself (e.g. a reply not preceded by its persist).
    var violations: [String] = []
    var outcomes: [String: Int] = [:]

    init(_ settings: Settings) {
        self.settings = settings
        rng = SplitMix64(seed: settings.seed)
        for id in acceptorIDs { acceptors[id] = CAS.Acceptor() }
        clients = (0..<settings.proposers).map { Client(node: NodeID(high: 0xB, low: UInt64($0 + 1))) }
    }

    mutating func random(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    mutating func schedule(_ event: Event, in delay: Int) {
        sequence += 1
        queue.append((now + delay, sequence, event))
    }

    /// Runs to completion and returns the history (unavailable operations left out: they
    /// claim to have written nothing, which the checker then holds them to).
    mutating func run() -> [RegisterOp] {
        for i in clients.indices { schedule(.invoke(client: i), in: random(10)) }
        for _ in 0..<settings.crashes {
            let id = acceptorIDs[random(3)]
            let at = random(400)
            sequence += 1
            queue.append((at, sequence, .crash(id)))
            sequence += 1
            queue.append((at + 20 + random(150), sequence, .restart(id)))
        }
        var steps = 0
        while !queue.isEmpty && steps < 200_000 {
            steps += 1
            let next = queue.indices.min { (queue[$0].time, queue[$0].sequence) < (queue[$1].time, queue[$1].sequence) }!
            let item = queue.remove(at: next)
            now = item.time
            handle(item.event)
        }
        if steps >= 200_000 { violations.append("simulation did not quiesce") }
        for i in clients.indices where clients[i].proposer != nil {
            violations.append("client \(i) never completed operation \(clients[i].operation)")
        }
        return history.indices.filter { !excluded.contains($0) }.map { history[$0] }
    }

    mutating func handle(_ event: Event) {
        switch event {
        case .deliver(let from, let to, let message):
            if let client = clients.firstIndex(where: { $0.node == to }) {
                guard var p = clients[client].proposer else { return }
                let effects = p.onMessage(message, from: from, now: clock)
                clients[client].proposer = p
                perform(effects, client: client)
            } else {
                guard !down.contains(to) else { return }
                deliverToAcceptor(message, from: from, to: to)
            }
        case .timer(let client, let operation, let timer):
            guard clients[client].operation == operation, var p = clients[client].proposer else { return }
            let effects = p.onTimer(timer, now: clock)
            clients[client].proposer = p
            perform(effects, client: client)
        case .invoke(let client):
            invoke(client)
        case .crash(let id):
            down.insert(id)
        case .restart(let id):
            down.remove(id)
            acceptors[id] = CAS.Acceptor(state: durable[id] ?? CAS.AcceptorState())
        }
    }

    mutating func deliverToAcceptor(_ message: CAS.Message, from: NodeID, to: NodeID) {
        let before = acceptors[to]!.state
        let effects = acceptors[to]!.on(message, object: objects[to])
        let after = acceptors[to]!.state
        let firstNotApply = effects.first { if case .apply = $0 { false } else { true } }
        if before != after && firstNotApply != .persist(after) {
            violations.append("acceptor \(to) changed state without persisting first: \(effects)")
        }
        for effect in effects {
            switch effect {
            case .apply(let proposal):
                objects[to] = DVVSet.sync(objects[to] ?? DVVSet(), proposal.object)
            case .persist(let state):
                durable[to] = state
            case .reply(let reply):
                send(reply, from: to, to: from)
            }
        }
        if settings.forgetPromises {
            acceptors[to]!.state.promised = .zero
            durable[to]?.promised = .zero
        }
    }

    mutating func send(_ message: CAS.Message, from: NodeID, to: NodeID) {
        guard random(100) >= settings.dropPercent else { return }
        schedule(.deliver(from: from, to: to, message), in: 1 + random(20))
        if random(100) < settings.duplicatePercent {
            schedule(.deliver(from: from, to: to, message), in: 1 + random(40))
        }
    }

    mutating func invoke(_ client: Int) {
        guard clients[client].operation < settings.operationsPerProposer else { return }
        let operation: CAS.Proposer.Operation
        let kind: RegisterOp.Kind
        if random(4) == 0 {
            operation = .read
            kind = .read
        } else {
            let expected: Int? = random(10) < 7 ? clients[client].lastSeen : (random(2) == 0 ? nil : 1 + random(nextValue))
            let new = nextValue
            nextValue += 1
            operation = .compareAndSet(expected: casBytes(expected), new: casBytes(new))
            kind = .cas(expected: expected, new: new)
        }
        var p = CAS.Proposer(
            node: clients[client].node, operation: operation,
            configuration: .init(acceptors: acceptorIDs, phaseTimeoutMilliseconds: 80, maxAttempts: 6,
                                 backoffBaseMilliseconds: 5, backoffCapMilliseconds: 60),
            minimumCounter: clients[client].nextCounter, randomSeed: rng.next())
        tick += 1
        clients[client].historyIndex = history.count
        history.append(RegisterOp(kind: kind, result: .unknown, call: tick, ret: Int.max))
        let effects = p.start(now: clock)
        clients[client].proposer = p
        perform(effects, client: client)
    }

    mutating func perform(_ effects: [CAS.Proposer.Effect], client: Int) {
        for effect in effects {
            switch effect {
            case .send(let to, let message):
                send(message, from: clients[client].node, to: to)
            case .schedule(let timer, let at):
                schedule(.timer(client: client, operation: clients[client].operation, timer), in: Int(at.milliseconds(since: clock)))
            case .complete(let outcome):
                complete(client, outcome)
            }
        }
    }

    mutating func complete(_ client: Int, _ outcome: CAS.Proposer.Outcome) {
        tick += 1
        let index = clients[client].historyIndex
        switch outcome {
        case .applied:
            history[index].result = .applied
            history[index].ret = tick
            if case .cas(_, let new) = history[index].kind { clients[client].lastSeen = new }
            outcomes["applied", default: 0] += 1
        case .failed(let current):
            history[index].result = .failed(current: casInt(current))
            history[index].ret = tick
            clients[client].lastSeen = casInt(current)
            outcomes["failed", default: 0] += 1
        case .read(let current):
            history[index].result = .read(casInt(current))
            history[index].ret = tick
            clients[client].lastSeen = casInt(current)
            outcomes["read", default: 0] += 1
        case .siblings(let values):
            violations.append("siblings \(values) on a key only CAS writes")
        case .unknown:
            outcomes["unknown", default: 0] += 1
        case .unavailable:
            excluded.insert(index)
            outcomes["unavailable", default: 0] += 1
        }
        clients[client].nextCounter = clients[client].proposer!.highestCounterSeen + 1
        clients[client].proposer = nil
        clients[client].operation += 1
        schedule(.invoke(client: client), in: 1 + random(30))
    }
}
