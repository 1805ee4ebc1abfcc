import CairnCheck
import CairnCore

/// The end of a run: liveness after healing, convergence of every replica, the final reads,
/// and the checkers' verdicts.
extension Simulation {
    /// Sends `request` to `node` as the probe client; returns the operation number to wait on.
    func probe(_ request: ClientRequest, at node: Int) -> UInt64 {
        let operation = nextProbe
        nextProbe += 1
        queue.schedule(.clientRequest(node: node, client: probeClient, operation: operation, request), after: 1)
        return operation
    }

    /// Waits for the probes' replies, at most `limit` virtual ms; returns them (missing = none).
    func awaitProbes(_ operations: [UInt64], limit: UInt64) -> [UInt64: ClientReply] {
        _ = runUntil(limit: limit) { operations.allSatisfy { self.probeReplies[$0] != nil } }
        var replies: [UInt64: ClientReply] = [:]
        for operation in operations { replies[operation] = probeReplies.removeValue(forKey: operation) }
        return replies
    }

    /// After healing, every node must serve requests again within a bound: a write and a read
    /// through each node (set), a linearizable read of each register through each node (CAS).
    ///
    /// A node still leaving is not asked: its leave may complete meanwhile, and a node that has
    /// left serves nothing and is no longer served (its peers refuse non-members' requests).
    func checkLiveness() {
        let bound: UInt64 = 3_000
        var asked: [(UInt64, String)] = []
        var registerCalls: [UInt64: (key: Int, call: Int)] = [:]
        for node in serving where nodes[node].core?.cluster.members[nodes[node].id]?.status != .leaving {
            switch options.workload {
            case .set, .plain:
                asked.append((probe(.put(key: 1_000 + node, value: [0], expiry: nil, supersedes: .nothing, w: options.w), at: node),
                              "put through node \(node)"))
                asked.append((probe(.get(key: Simulation.setKeys[node % Simulation.setKeys.count], r: options.r), at: node),
                              "get through node \(node)"))
            case .cas:
                for key in Simulation.registerKeys {
                    let operation = probe(.cas(key: key, .read), at: node)
                    registerCalls[operation] = (key, eventCount)
                    asked.append((operation, "linearizable read of \(key) through node \(node)"))
                }
            }
        }
        let replies = awaitProbes(asked.map(\.0), limit: bound)
        for (operation, what) in asked {
            switch replies[operation] {
            case .stored?, .found?, .notFound?, .cas(.read)?:
                if case .cas(.read(let current))? = replies[operation], let call = registerCalls[operation] {
                    registerHistories[call.key, default: []].append(RegisterOp(
                        kind: .read, result: .read(RegisterBytes.int(current)), call: call.call, ret: eventCount))
                }
            case let other?:
                violations.append("liveness: \(what) after healing failed: \(other)\(gatheringNote)")
            case nil:
                violations.append("liveness: \(what) after healing got no answer within \(bound) ms")
            }
        }
    }

    /// Which nodes are still gathering acceptor states, of which partitions, from whom.
    var gatheringNote: String {
        let lines = serving.compactMap { node -> String? in
            let gathering = nodes[node].partitionsGatheringCASStates
            guard !gathering.isEmpty else { return nil }
            let waits = gathering.map { partition in
                "\(partition) from \(nodes[node].casStatesAwaited(partition).compactMap { id in nodes.firstIndex { $0.id == id } }) [" + serving.map { other in
                    let list = nodes[other].core?.ring?.preferenceList(for: partition, n: options.n).compactMap { id in nodes.firstIndex { $0.id == id } }
                    return "\(other): v\(nodes[other].core?.cluster.ring?.version ?? 0) \(list ?? [])"
                }.joined(separator: " ") + "]"
            }
            return "node \(node) gathers \(waits.joined(separator: ", "))"
        }
        return lines.isEmpty ? "" : " (" + lines.joined(separator: "; ") + ")"
    }

    /// Anti-entropy and hint delivery must bring every replica of every key to the same object
    /// within a bound, with no hint left undelivered.
    func checkConvergence() {
        let bound: UInt64 = 60_000
        let start = queue.now
        while !isConverged {
            guard queue.now - start < bound else {
                violations.append("not converged \(bound) ms after healing: \(divergence().prefix(3).joined(separator: "; "))")
                return
            }
            _ = runUntil(limit: 250) { false }
        }
        stats.convergenceMilliseconds = queue.now - start
    }

    var isConverged: Bool { divergence().isEmpty }

    /// What is not yet converged: members that disagree on the ring, handoff still under
    /// way, keys whose primaries differ, and hints still held.
    func divergence() -> [String] {
        let serving = self.serving
        guard let ring = serving.first.flatMap({ nodes[$0].core?.ring }) else { return ["no ring"] }
        guard serving.allSatisfy({ nodes[$0].core?.ring == ring }), ring.members == serving.map({ nodes[$0].id }).sorted() else {
            return ["members disagree on the ring: serving \(serving) rings " + serving.map { n in
                "\(n): v\(nodes[n].core?.cluster.ring?.version ?? 0) \(nodes[n].core?.ring?.members.map(\.low) ?? []) statuses \(nodes[n].core?.cluster.members.values.sorted { $0.id < $1.id }.map { "\($0.id.low)=\($0.status)" } ?? [])"
            }.joined(separator: "; ")]
        }
        guard handoffSettled else {
            return ["handoff still under way: " + serving.map { n in "node \(n) pending \(nodes[n].pendingPartitions) sending \(nodes[n].activeTransfers.map { "\($0.transfer.partition)->\($0.transfer.target.low)" })" }.joined(separator: "; ")]
        }
        var problems: [String] = []
        let keys = Set(nodes.flatMap { $0.store.keys })
        for key in keys.sorted() {
            let partition = ring.partition(for: SimKeys.hash(key))
            let replicas = ring.preferenceList(for: partition, n: options.n).map(nodeIndex)
            let objects = replicas.map { nodes[$0].store[key]?.object }
            if Set(objects.map { $0 ?? SimObject() }).count > 1 {
                problems.append("key \(key) differs on nodes \(replicas)")
            }
        }
        for node in nodes where !node.hintRecords.isEmpty && node.role != .removed {
            problems.append("node \(node.index) still holds \(node.hintRecords.count) hints")
        }
        return problems
    }

    /// CAS workload, at quiescence: a GET with R = N and a serial read of each register, each
    /// through a random node, must agree: what CAS applied is the key's own value.
    func checkRegistersReadAlike() {
        guard options.workload == .cas, violations.isEmpty else { return }
        for key in Simulation.registerKeys {
            // The serial read first: it may finish a proposal still in progress (an unknown CAS
            // may take effect this late), and a GET beside it could read either side of that.
            let serial = probe(.cas(key: key, .read), at: serving[Int(clientRandom.between(0...UInt64(serving.count - 1)))])
            var replies = awaitProbes([serial], limit: 3_000)
            let get = probe(.get(key: key, r: options.n), at: serving[Int(clientRandom.between(0...UInt64(serving.count - 1)))])
            replies.merge(awaitProbes([get], limit: 3_000)) { first, _ in first }
            let got: [UInt8]?
            switch replies[get] {
            case .found(let object)?:
                let live = object.values(at: clientWallClock)
                guard live.count <= 1 else {
                    violations.append("final GET of register \(key) found siblings")
                    continue
                }
                got = live.first
            case .notFound?: got = nil
            case let other:
                violations.append("final GET of register \(key) failed: \(String(describing: other))")
                continue
            }
            guard case .cas(.read(let current))? = replies[serial] else {
                violations.append("final serial read of register \(key) failed: \(String(describing: replies[serial]))")
                continue
            }
            if got != current {
                violations.append("register \(key): a GET read \(String(describing: RegisterBytes.int(got))) where a serial read read "
                                  + "\(String(describing: RegisterBytes.int(current)))")
            }
        }
    }

    /// Reads every workload key through a node with R = N and keeps the live elements.
    func finalReads() {
        guard options.workload != .cas else { return }
        finalReadTime = queue.now
        finalReadCall = eventCount
        var asked: [(UInt64, Int)] = []
        var servedBy: [Int: Int] = [:]
        for key in workloadKeys {
            let through = serving[Int(clientRandom.between(0...UInt64(serving.count - 1)))]
            servedBy[key] = through
            asked.append((probe(.get(key: key, r: options.n), at: through), key))
        }
        let replies = awaitProbes(asked.map(\.0), limit: 3_000)
        for (operation, key) in asked {
            switch replies[operation] {
            case .found(let object)?:
                // Live as the serving node judges by its (corrected) clock, as cairnd's reads do.
                let clock = servedBy[key].map { wallClock(at: $0) } ?? WallClockTime(millisecondsSince1970: finalReadTime)
                finalElements[key] = Set(object.values(at: clock).flatMap(SimValues.decode))
            case .notFound?:
                finalElements[key] = []
            case let other:
                violations.append("final read of key \(key) failed: \(String(describing: other))")
            }
        }
    }

    /// Once a reaper removed a dead object, no live value it had superseded — no live sibling
    /// whose dot its history covers — may be found again on any node (a replica that missed the
    /// delete, a late hint or a former replica's copy bringing a deleted value back). The dead
    /// object's own siblings may come back from a copy that confirmed it (they are still dead,
    /// or expired only on a reaper's clock that runs ahead; they are reaped again); new writes
    /// of the key mint dots under new mint epochs, which no reaped history covers.
    func checkNothingReapedCameBack() {
        guard violations.isEmpty, !reapedHistories.isEmpty else { return }
        for node in serving {
            for (key, record) in nodes[node].store {
                guard let histories = reapedHistories[key] else { continue }
                for sibling in record.object.siblings where !sibling.sibling.isTombstone(at: clientWallClock)
                    && histories.contains(where: { $0.history.covers(sibling.dot) && !$0.dots.contains(sibling.dot) }) {
                    violations.append("key \(key) was reaped, yet node \(node) holds \(sibling.dot) it had superseded")
                    return
                }
            }
        }
    }

    /// At quiescence, a cluster-wide scan through a random node, page by page (2 keys per
    /// page, so paging is exercised), must list exactly the keys whose primary replicas hold a
    /// live value, in byte order, each once; and a scan with values under a prefix must return
    /// each key's object as its primaries hold it. Keys that expire while the scan runs (on any
    /// node's clock) may go either way.
    func checkScans() {
        guard violations.isEmpty, let ring = serving.first.flatMap({ nodes[$0].core?.ring }) else { return }
        let through = serving[Int(clientRandom.between(0...UInt64(serving.count - 1)))]
        let earliest = serving.map { wallClock(at: $0) }.min() ?? clientWallClock
        var keys: [[UInt8]] = []
        var after: [UInt8]?
        for page in 0... {
            guard page < 500 else {
                violations.append("scan through node \(through) did not end after 500 pages")
                return
            }
            let operation = probe(.scan(prefix: [], after: after, limit: 2, values: false), at: through)
            guard case .scanned(let result)? = awaitProbes([operation], limit: 3_000)[operation] else {
                violations.append("scan page \(page) through node \(through) failed")
                return
            }
            keys += result.items.map(\.key)
            guard let next = result.next else { break }
            after = next
        }
        let latest = serving.map { wallClock(at: $0) }.max() ?? clientWallClock
        for (index, key) in keys.enumerated().dropFirst() where !keys[index - 1].lexicographicallyPrecedes(key) {
            violations.append("scan listed \(String(decoding: key, as: UTF8.self)) out of order or twice")
        }
        var expected: Set<[UInt8]> = []
        var uncertain: Set<[UInt8]> = []
        for key in Set(nodes.flatMap { $0.store.keys }) {
            // The primaries' copies merged (a reaper may already have removed its own).
            let primaries = ring.preferenceList(for: ring.partition(for: SimKeys.hash(key)), n: options.n).map(nodeIndex)
            let copies = primaries.compactMap { nodes[$0].store[key]?.object }
            guard !copies.isEmpty else { continue }
            let object = copies.dropFirst().reduce(copies[0]) { DVVSet.sync($0, $1) }
            let liveEarly = !object.isDeleted(at: earliest)
            let liveLate = !object.isDeleted(at: latest)
            if liveEarly != liveLate { uncertain.insert(SimKeys.bytes(key)) } else if liveEarly { expected.insert(SimKeys.bytes(key)) }
        }
        let listed = Set(keys).subtracting(uncertain)
        if listed != expected {
            let missing = expected.subtracting(listed).map { String(decoding: $0, as: UTF8.self) }.sorted()
            let extra = listed.subtracting(expected).map { String(decoding: $0, as: UTF8.self) }.sorted()
            violations.append("scan through node \(through) missed \(missing.prefix(5)) and listed \(extra.prefix(5)) (dead or unknown)")
        }
        stats.scannedKeys += keys.count
    }

    /// Plain workload, at quiescence: one more plain PUT of each key (a DELETE of the last)
    /// through a random node must leave exactly its value (nothing), read with R = N through
    /// another: everything acknowledged earlier is superseded once the cluster converged.
    func checkOverwrites() {
        guard options.workload == .plain, violations.isEmpty else { return }
        var writes: [(UInt64, Int, UInt64?)] = []
        for key in Simulation.plainKeys {
            let value = nextElement
            nextElement += 1
            let through = serving[Int(clientRandom.between(0...UInt64(serving.count - 1)))]
            if key == Simulation.plainKeys.last {
                writes.append((probe(.delete(key: key, supersedes: .current, w: options.w), at: through), key, nil))
            } else {
                writes.append((probe(.put(key: key, value: SimValues.encode([value]), expiry: nil, supersedes: .current,
                                          w: options.w), at: through), key, value))
            }
        }
        let written = awaitProbes(writes.map(\.0), limit: 3_000)
        var reads: [(UInt64, Int, UInt64?)] = []
        for (operation, key, value) in writes {
            guard case .stored? = written[operation] else {
                violations.append("final plain write of key \(key) failed: \(String(describing: written[operation]))")
                continue
            }
            let through = serving[Int(clientRandom.between(0...UInt64(serving.count - 1)))]
            reads.append((probe(.get(key: key, r: options.n), at: through), key, value))
        }
        let replies = awaitProbes(reads.map(\.0), limit: 3_000)
        for (operation, key, value) in reads {
            let expected: Set<UInt64> = value.map { [$0] } ?? []
            let found: Set<UInt64>
            switch replies[operation] {
            case .found(let object)?: found = Set(object.values(at: clientWallClock).flatMap(SimValues.decode))
            case .notFound?: found = []
            case let other:
                violations.append("final read of key \(key) failed: \(String(describing: other))")
                continue
            }
            if found != expected {
                violations.append("after a converged cluster's last plain \(value == nil ? "delete" : "write") of key \(key), "
                                  + "a read found \(found.sorted()) instead of \(expected.sorted())")
            }
        }
    }

    /// The clock error the checkers tolerate: as set, else twice the larger of the skew and
    /// the error measured — an expiry is set by the writing coordinator's clock and judged by
    /// the reading node's, so their errors add (the correction is checked on its own by
    /// `ClusterClockSimulationTests`).
    var clockTolerance: UInt64 {
        options.clockToleranceMilliseconds ?? 2 * max(maxClockSkewMilliseconds, stats.clockErrorMilliseconds)
    }

    func result() -> SimResult {
        var failures = violations
        var checked = ""
        switch options.workload {
        case .set:
            if !finalElements.isEmpty || failures.isEmpty {
                let report = setChecker.check(finalReads: finalElements, atMilliseconds: finalReadTime,
                                              clockToleranceMilliseconds: clockTolerance)
                if !report.isValid { failures.append("set checker: \(report)") }
                checked = report.description
            }
        case .cas:
            var total = 0
            for key in registerHistories.keys.sorted() {
                let ops = registerHistories[key]!.indices
                    .filter { !excludedRegisterOps.contains(RegisterKeyIndex(key: key, index: $0)) }
                    .map { registerHistories[key]![$0] }
                total += ops.count
                switch RegisterChecker.isLinearizable(ops) {
                case true?: break
                case false?:
                    failures.append("register \(key): history of \(ops.count) operations is not linearizable:\n"
                                    + ops.map { "    \($0)" }.joined(separator: "\n"))
                case nil:
                    failures.append("register \(key): linearizability search exceeded its budget (\(ops.count) operations)")
                }
            }
            var written: [Int: Int] = [:]  // value → call of the operation that wrote it
            for ops in registerHistories.values {
                for op in ops {
                    switch op.kind {
                    case .cas(_, let new?), .write(let new?): written[new] = min(written[new] ?? Int.max, op.call)
                    default: break
                    }
                }
            }
            for get in registerGets {
                if get.values.count > 1 { failures.append("GET of register \(get.key) found siblings \(get.values)") }
                for value in get.values where (value.flatMap { written[$0] } ?? Int.max) >= get.ret {
                    failures.append("GET of register \(get.key) [\(get.call), \(get.ret)] read \(String(describing: value)), "
                                    + "which no CAS had begun to write")
                }
            }
            checked = "\(total) register operations linearizable, \(registerGets.count) GETs saw only CAS values"
        case .plain:
            failures += overwriteChecker.check(finalReads: finalElements.mapValues {
                OverwriteChecker.Read(values: $0, call: finalReadCall, ret: finalReadCall, retMilliseconds: finalReadTime)
            }, clockToleranceMilliseconds: clockTolerance)
            checked = "\(overwriteChecker.operationCount) plain operations, no write lost"
        }
        return SimResult(seed: seed, options: options, failures: failures, summary: checked, stats: stats,
                         virtualMilliseconds: queue.now, events: eventCount)
    }
}

/// What one seed found.
public struct SimResult: Sendable {
    public var seed: UInt64
    public var options: SimOptions
    /// Every invariant violation; empty when the seed passed.
    public var failures: [String]
    /// The checker's account of a passing run.
    public var summary: String
    public var stats: SimStats
    public var virtualMilliseconds: UInt64
    public var events: Int

    public var passed: Bool { failures.isEmpty }
}
