import CairnCheck
import CairnCore

/// A client of the simulated cluster: one operation at a time, each through a node it picks
/// at random, each bounded by a client-side timeout.
struct SimClient {
    enum Operation {
        /// Set keys: read, merge the siblings' elements, add `element`, write with the context.
        case add(key: Int, element: UInt64, writing: Bool)
        /// Delete and TTL keys: a blind write of one element (with an expiry on TTL keys).
        case blindWrite(key: Int, element: UInt64)
        /// Delete keys: read, then delete with the read's context what the read returned.
        case delete(key: Int, observed: [UInt64]?)
        /// CAS keys: one register operation, recorded at `historyIndex`.
        case register(key: Int, historyIndex: Int)
        /// CAS keys: a plain (quorum) GET of the key's object, begun at event `call`.
        case registerGet(key: Int, call: Int)
        /// Plain keys: a plain PUT or DELETE (`write` is its index in the overwrite checker),
        /// or a GET (`write` nil) begun at event `call`.
        case overwrite(key: Int, write: Int?, call: Int)
    }

    var current: Operation?
    var operationNumber: UInt64 = 0
    var node = 0
    var lastSeen: [Int: Int?] = [:]
}

/// The probe client (liveness and final reads) uses this index.
let probeClient = -1

extension Simulation {
    static let setKeys = [0, 1, 2]
    static let deleteKeys = [10, 11]
    static let ttlKeys = [20, 21]
    static let registerKeys = [100, 101]
    static let plainKeys = [200, 201, 202]

    var workloadKeys: [Int] {
        switch options.workload {
        case .set: Simulation.setKeys + Simulation.deleteKeys + Simulation.ttlKeys
        case .cas: Simulation.registerKeys
        case .plain: Simulation.plainKeys
        }
    }

    func startClients() {
        clientsStarted = true
        clients = (0..<options.clients).map { _ in SimClient() }
        for client in clients.indices {
            queue.schedule(.clientWake(client: client), after: clientRandom.between(0...50))
        }
    }

    func clientWake(_ client: Int) {
        guard clients[client].current == nil, queue.now < clientsStopAt else { return }
        let members = self.members
        clients[client].node = members[Int(clientRandom.between(0...UInt64(members.count - 1)))]
        clients[client].operationNumber += 1
        stats.operations += 1
        switch options.workload {
        case .set: startSetOperation(client)
        case .cas: startRegisterOperation(client)
        case .plain: startOverwriteOperation(client)
        }
        queue.schedule(.clientTimeout(client: client, operation: clients[client].operationNumber), after: clientTimeoutMilliseconds)
    }

    func issue(_ client: Int, _ request: ClientRequest) {
        switch request {
        case .get(let key, _), .put(let key, _, _, _, _), .delete(let key, _, _), .cas(let key, _):
            trace(key, "client \(client) op \(clients[client].operationNumber) → node \(clients[client].node): \(request)")
        case .scan:
            break
        }
        queue.schedule(.clientRequest(node: clients[client].node, client: client, operation: clients[client].operationNumber, request),
                       after: 1)
    }

    // MARK: set workload

    func startSetOperation(_ client: Int) {
        let roll = clientRandom.between(0...99)
        let element = nextElement
        switch roll {
        case 0..<55:
            let key = Simulation.setKeys[Int(clientRandom.between(0...UInt64(Simulation.setKeys.count - 1)))]
            nextElement += 1
            clients[client].current = .add(key: key, element: element, writing: false)
            issue(client, .get(key: key, r: options.r))
        case 55..<75:
            let key = Simulation.deleteKeys[Int(clientRandom.between(0...UInt64(Simulation.deleteKeys.count - 1)))]
            nextElement += 1
            clients[client].current = .blindWrite(key: key, element: element)
            issue(client, .put(key: key, value: SimValues.encode([element]), expiry: nil, supersedes: .nothing, w: options.w))
        case 75..<90:
            let key = Simulation.deleteKeys[Int(clientRandom.between(0...UInt64(Simulation.deleteKeys.count - 1)))]
            clients[client].current = .delete(key: key, observed: nil)
            issue(client, .get(key: key, r: options.r))
        default:
            let key = Simulation.ttlKeys[Int(clientRandom.between(0...UInt64(Simulation.ttlKeys.count - 1)))]
            nextElement += 1
            let ttl = clientRandom.between(20...3_000)
            setChecker.recordExpiry(key: key, element: element, expiryMilliseconds: queue.now + ttl)
            clients[client].current = .blindWrite(key: key, element: element)
            // The coordinator turns the TTL into an expiry on its own (corrected) clock, as
            // cairnd's service does: a skewed clock moves the expiry by its error.
            let expiry = wallClock(at: clients[client].node) + ttl
            issue(client, .put(key: key, value: SimValues.encode([element]), expiry: expiry, supersedes: .nothing, w: options.w))
        }
    }

    func clientReceived(_ reply: ClientReply, client: Int, operation: UInt64) {
        if client == probeClient {
            probeReplies[operation] = reply
            return
        }
        guard clients[client].operationNumber == operation, let current = clients[client].current else { return }
        switch current {
        case .add(let key, _, _), .blindWrite(let key, _), .delete(let key, _), .register(let key, _), .overwrite(let key, _, _),
             .registerGet(let key, _):
            switch reply {
            case .found(let object): trace(key, "client \(client) op \(operation) ← \(Simulation.show(object))")
            default: trace(key, "client \(client) op \(operation) ← \(reply)")
            }
        }
        switch current {
        case .add(let key, let element, let writing):
            if !writing {
                switch reply {
                case .found(let object):
                    var elements = Set(object.values(at: clientWallClock).flatMap(SimValues.decode))
                    elements.insert(element)
                    clients[client].current = .add(key: key, element: element, writing: true)
                    issue(client, .put(key: key, value: SimValues.encode(elements.sorted()), expiry: nil, supersedes: .context(object.join()), w: options.w))
                case .notFound:
                    clients[client].current = .add(key: key, element: element, writing: true)
                    issue(client, .put(key: key, value: SimValues.encode([element]), expiry: nil, supersedes: .nothing, w: options.w))
                default:
                    finish(client)  // the read failed: nothing was written
                }
                return
            }
            setChecker.recordAdd(key: key, element: element, outcome: setOutcome(reply))
            finish(client)
        case .blindWrite(let key, let element):
            setChecker.recordAdd(key: key, element: element, outcome: setOutcome(reply))
            finish(client)
        case .delete(let key, let observed):
            if observed == nil {
                guard case .found(let object) = reply else {
                    finish(client)
                    return
                }
                let elements = object.values(at: clientWallClock).flatMap(SimValues.decode)
                guard !elements.isEmpty else {
                    finish(client)
                    return
                }
                clients[client].current = .delete(key: key, observed: elements)
                issue(client, .delete(key: key, supersedes: .context(object.join()), w: options.w))
                return
            }
            for element in observed! { setChecker.recordDelete(key: key, element: element, outcome: setOutcome(reply)) }
            finish(client)
        case .register(let key, let index):
            completeRegister(client, key: key, index: index, reply: reply)
            finish(client)
        case .overwrite(let key, let write, let call):
            completeOverwrite(key: key, write: write, call: call, reply: reply)
            finish(client)
        case .registerGet(let key, let call):
            switch reply {
            case .found(let object):
                registerGets.append(RegisterGet(key: key, call: call, ret: eventCount,
                                                values: object.values(at: clientWallClock).map(RegisterBytes.int)))
            case .notFound:
                registerGets.append(RegisterGet(key: key, call: call, ret: eventCount, values: []))
            default:
                break
            }
            finish(client)
        }
    }

    func setOutcome(_ reply: ClientReply) -> SetChecker.Outcome {
        switch reply {
        case .stored:
            stats.acknowledged += 1
            return .acknowledged
        default:
            return .failed
        }
    }

    func clientTimedOut(_ client: Int, operation: UInt64) {
        guard clients[client].operationNumber == operation, let current = clients[client].current else { return }
        switch current {
        case .add(let key, let element, let writing):
            if writing { setChecker.recordAdd(key: key, element: element, outcome: .unknown) }
        case .blindWrite(let key, let element):
            setChecker.recordAdd(key: key, element: element, outcome: .unknown)
        case .delete(let key, let observed):
            for element in observed ?? [] { setChecker.recordDelete(key: key, element: element, outcome: .unknown) }
        case .register, .overwrite, .registerGet:
            break  // stays unanswered in the history: it may take effect at any later time
        }
        finish(client)
    }

    func finish(_ client: Int) {
        clients[client].current = nil
        queue.schedule(.clientWake(client: client), after: clientRandom.between(5...150))
    }

    // MARK: plain overwrite workload

    func startOverwriteOperation(_ client: Int) {
        let key = Simulation.plainKeys[Int(clientRandom.between(0...UInt64(Simulation.plainKeys.count - 1)))]
        let roll = clientRandom.between(0...99)
        if roll < 40 {
            clients[client].current = .overwrite(key: key, write: nil, call: eventCount)
            issue(client, .get(key: key, r: options.r))
        } else if roll < 85 {
            let value = nextElement
            nextElement += 1
            let expiry = roll < 55 ? queue.now + clientRandom.between(20...3_000) : 0
            let index = overwriteChecker.begin(key: key, value: value, expiryMilliseconds: expiry, call: eventCount)
            clients[client].current = .overwrite(key: key, write: index, call: eventCount)
            issue(client, .put(key: key, value: SimValues.encode([value]), expiry: expiry == 0 ? nil : WallClockTime(millisecondsSince1970: expiry),
                               supersedes: .current, w: options.w))
        } else {
            let index = overwriteChecker.begin(key: key, value: nil, expiryMilliseconds: 0, call: eventCount)
            clients[client].current = .overwrite(key: key, write: index, call: eventCount)
            issue(client, .delete(key: key, supersedes: .current, w: options.w))
        }
    }

    func completeOverwrite(key: Int, write: Int?, call: Int, reply: ClientReply) {
        if let write {
            if case .stored = reply { stats.acknowledged += 1 }
            if case .stored = reply {
                overwriteChecker.answer(key: key, index: write, acknowledged: true, ret: eventCount)
            } else {
                overwriteChecker.answer(key: key, index: write, acknowledged: false, ret: eventCount)
            }
            return
        }
        switch reply {
        case .found(let object):
            let values = Set(object.values(at: clientWallClock).flatMap(SimValues.decode))
            overwriteChecker.recordRead(key: key, values: values, call: call, ret: eventCount, retMilliseconds: queue.now)
        case .notFound:
            overwriteChecker.recordRead(key: key, values: [], call: call, ret: eventCount, retMilliseconds: queue.now)
        default:
            break  // a failed read says nothing
        }
    }

    // MARK: CAS workload

    func startRegisterOperation(_ client: Int) {
        let key = Simulation.registerKeys[Int(clientRandom.between(0...UInt64(Simulation.registerKeys.count - 1)))]
        let roll = clientRandom.between(0...99)
        let kind: RegisterOp.Kind
        let operation: CAS.Proposer.Operation
        if roll < 15 {
            // A plain GET sees what CAS applied: the value lives in the key's own object.
            clients[client].current = .registerGet(key: key, call: eventCount)
            issue(client, .get(key: key, r: options.r))
            return
        }
        if roll < 35 {
            kind = .read
            operation = .read
        } else if roll < 45 {
            let new = nextRegisterValue
            nextRegisterValue += 1
            kind = .write(new)
            operation = .write(new: RegisterBytes.bytes(new))
        } else {
            let known = clients[client].lastSeen[key] ?? nil
            let expected: Int? = clientRandom.chance(0.8) ? known
                : (clientRandom.chance(0.5) ? nil : Int(clientRandom.between(1...UInt64(max(1, nextRegisterValue)))))
            let new = nextRegisterValue
            nextRegisterValue += 1
            kind = .cas(expected: expected, new: new)
            operation = .compareAndSet(expected: RegisterBytes.bytes(expected), new: RegisterBytes.bytes(new))
        }
        let index = registerHistories[key, default: []].count
        registerHistories[key, default: []].append(RegisterOp(kind: kind, result: .unknown, call: eventCount, ret: Int.max))
        clients[client].current = .register(key: key, historyIndex: index)
        issue(client, .cas(key: key, operation))
    }

    func completeRegister(_ client: Int, key: Int, index: Int, reply: ClientReply) {
        var op = registerHistories[key]![index]
        switch reply {
        case .cas(.applied):
            op.result = .applied
            stats.acknowledged += 1
            switch op.kind {
            case .cas(_, let new), .write(let new): clients[client].lastSeen[key] = new
            case .read: break
            }
        case .cas(.failed(let current)):
            op.result = .failed(current: RegisterBytes.int(current))
            clients[client].lastSeen[key] = RegisterBytes.int(current)
        case .cas(.read(let current)):
            op.result = .read(RegisterBytes.int(current))
            clients[client].lastSeen[key] = RegisterBytes.int(current)
        case .cas(.unknown):
            registerHistories[key]![index] = op
            return
        case .cas(.siblings(let values)):
            violations.append("CAS on register \(key) found siblings \(values.map(RegisterBytes.int)): only CAS writes it")
            return
        case .cas(.unavailable), .failed:
            // Nothing was written: the operation did not happen.
            excludedRegisterOps.insert(RegisterKeyIndex(key: key, index: index))
            return
        default:
            violations.append("CAS operation answered with \(reply)")
            return
        }
        op.ret = eventCount
        registerHistories[key]![index] = op
    }
}

struct RegisterKeyIndex: Hashable {
    var key: Int
    var index: Int
}

/// A plain GET of a CAS key, as a client saw it.
struct RegisterGet {
    var key: Int
    var call: Int
    var ret: Int
    /// The live values read (nil entries are values that are not register integers).
    var values: [Int?]
}
