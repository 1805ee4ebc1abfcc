import CairnCheck
import CairnClient

/// What is checked once a run's faults have healed: each replica converged (read without
/// quorum or repair), then the final reads, then the history through the simulator's checkers
/// (`CairnCheck`): no acknowledged set element lost, none invented or resurrected; every CAS
/// register's history linearizable and a GET agreeing with a serial read; no acknowledged
/// plain write lost unless a later write could have superseded it, no value from nowhere; a
/// scan listing exactly the keys that hold values.
public struct ChaosCheck: Sendable {
    public struct Options: Sendable {
        public var nodes: [String]
        public var prefix: String
        /// N: how many nodes must call themselves a key's primaries and agree.
        public var replicas: Int
        public var keysPerWorkload: Int
        public var workloads: [ChaosOp.Workload]
        /// How long replicas may take to converge after healing.
        public var convergeTimeout: Duration
        public var sourceAddress: String?
        /// ttl: how far apart the nodes' clocks and the checker's may be, plus a write's
        /// duration; within it of its expiry a value may be present or gone.
        public var clockToleranceMilliseconds: UInt64 = 5_000
        /// ttl: milliseconds since the run began, now (the wall clock of the machine the
        /// workload ran on, which the expiries are reckoned on).
        public var elapsed: @Sendable () -> Double = { 0 }
        /// How many of the ttl workload's keys the convergence check reads (they are many).
        public var ttlKeysConverged = 40

        public init(nodes: [String], prefix: String, replicas: Int = 3, keysPerWorkload: Int = 3,
                    workloads: [ChaosOp.Workload] = ChaosOp.Workload.allCases, convergeTimeout: Duration = .seconds(120),
                    sourceAddress: String? = "127.0.0.100") {
            self.nodes = nodes
            self.prefix = prefix
            self.replicas = replicas
            self.keysPerWorkload = keysPerWorkload
            self.workloads = workloads
            self.convergeTimeout = convergeTimeout
            self.sourceAddress = sourceAddress
        }
    }

    /// The outcome of the checks: one line per check and per workload's counts, and the tally.
    public struct Report: Sendable {
        public var lines: [String] = []
        public var passed = 0
        public var failed = 0
        public var convergenceSeconds: Double?
        /// Set elements acknowledged and missing, never added, deleted yet present; plain
        /// writes lost; CAS registers found linearizable, of those checked.
        public var lost = 0
        public var invented = 0
        public var resurrected = 0
        public var plainLost = 0
        public var registersLinearizable = 0
        public var registers = 0

        mutating func check(_ ok: Bool, _ line: String) {
            if ok { passed += 1 } else { failed += 1 }
            lines.append((ok ? "PASS " : "FAIL ") + line)
        }

        public var summary: String { "\(passed) passed, \(failed) failed" }

        /// The run's figures in one tab-separated line (`summaryHeader`), for Chaos/run-all.sh's table.
        public func summaryLine(_ ops: [ChaosOp]) -> String {
            let acknowledged = ops.count { $0.outcome == .ok }
            let failedOps = ops.count { $0.outcome == .failed }
            let unknown = ops.count { $0.outcome == .unknown }
            return [ops.count, acknowledged, failedOps, unknown, lost, plainLost, invented, resurrected].map(String.init).joined(separator: "\t")
                + "\t\(registersLinearizable)/\(registers)\t" + (convergenceSeconds.map { ChaosCheck.format($0) } ?? "-")
                + "\t\(passed)\t\(failed)"
        }

        public static let summaryHeader = "ops\tacknowledged\tfailed\tunknown\tset_lost\tplain_lost\tinvented\tresurrected\tcas_linearizable\tconverge_s\tchecks_passed\tchecks_failed"
    }

    public let options: Options
    /// The ttl workload's keys, from the history (each value has a key of its own).
    var ttlKeys: [Int] = []

    public init(options: Options) { self.options = options }

    /// Runs every check on `ops` (the run's history) against the healed cluster.
    public func run(_ ops: [ChaosOp]) async throws -> Report {
        var check = self
        check.ttlKeys = Array(Set(ops.filter { $0.workload == .ttl && $0.kind == .write }.map(\.key))).sorted()
        return try await check.runChecks(ops)
    }

    func runChecks(_ ops: [ChaosOp]) async throws -> Report {
        var report = Report()
        let clients = try options.nodes.map { try CairnClient(node: $0, timeout: .seconds(10), sourceAddress: options.sourceAddress) }
        defer { for client in clients { client.close() } }
        let recorder = ChaosRecorder()
        for workload in options.workloads { report.lines.append(Self.counts(ops, workload)) }
        try await converge(clients, &report, recorder)
        let sequenceEnd = (ops.compactMap { $0.ret }.max() ?? 0) + (ops.map(\.call).max() ?? 0) + 1
        for workload in options.workloads {
            switch workload {
            case .set: await checkSet(ops, clients, &report)
            case .cas: await checkRegisters(ops, clients, &report, after: sequenceEnd)
            case .plain: await checkPlain(ops, clients, &report, after: sequenceEnd)
            case .ttl: await checkExpiries(ops, clients, &report)
            }
        }
        await checkScan(ops, clients, &report)
        return report
    }

    func keys(_ workload: ChaosOp.Workload) -> [(number: Int, bytes: [UInt8])] {
        let numbers = workload == .ttl ? ttlKeys : Array(0..<options.keysPerWorkload)
        return numbers.map { ($0, ChaosWorkload.key(options.prefix, workload, $0)) }
    }

    static func counts(_ ops: [ChaosOp], _ workload: ChaosOp.Workload) -> String {
        let mine = ops.filter { $0.workload == workload }
        let ok = mine.count { $0.outcome == .ok }
        let failed = mine.count { $0.outcome == .failed }
        let unknown = mine.count { $0.outcome == .unknown }
        return "\(workload.rawValue): \(mine.count) operations, \(ok) acknowledged, \(failed) failed, \(unknown) unknown"
    }

    // MARK: convergence

    /// Waits until, for every key, exactly N nodes call themselves its primaries and their own
    /// copies (replica reads: no quorum, no repair) are equal — the same live values and the
    /// same context. A quorum read would repair what it reads and could hide a replica that
    /// never converged on its own.
    func converge(_ clients: [CairnClient], _ report: inout Report, _ recorder: ChaosRecorder) async throws {
        let started = ContinuousClock.now
        var problems: [String] = []
        repeat {
            problems = []
            for workload in options.workloads {
                for key in keys(workload).prefix(workload == .ttl ? options.ttlKeysConverged : Int.max) {
                    if let problem = await divergence(key.bytes, clients) { problems.append(problem) }
                }
            }
            if problems.isEmpty { break }
            try await Task.sleep(for: .seconds(1))
        } while ContinuousClock.now - started < options.convergeTimeout
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        let elapsed = Double(seconds) + Double(attoseconds) / 1e18
        if problems.isEmpty {
            report.convergenceSeconds = elapsed
            report.check(true, "every key's \(options.replicas) primaries hold equal copies, \(Self.format(elapsed)) s after healing")
        } else {
            report.check(false, "replicas not converged \(Self.format(elapsed)) s after healing: " + problems.prefix(3).joined(separator: "; "))
        }
    }

    func divergence(_ key: [UInt8], _ clients: [CairnClient]) async -> String? {
        var copies: [(node: String, read: CairnClient.Read)] = []
        for client in clients {
            guard let copy = try? await client.replicaGet(key: key) else { continue }  // down, or left
            if copy.isPrimary { copies.append((client.node, copy.read)) }
        }
        let name = String(decoding: key, as: UTF8.self)
        guard copies.count == options.replicas else {
            return "\(name): \(copies.count) nodes answer as primaries (\(copies.map(\.node).joined(separator: ", ")))"
        }
        let first = copies[0].read
        for copy in copies.dropFirst() where Set(copy.read.siblings) != Set(first.siblings) || copy.read.context != first.context {
            return "\(name): \(copies[0].node) holds \(Self.show(first)), \(copy.node) holds \(Self.show(copy.read))"
        }
        return nil
    }

    static func show(_ read: CairnClient.Read) -> String {
        read.siblings.isEmpty ? "nothing live" : read.siblings.map { String(decoding: $0.prefix(40), as: UTF8.self) }.joined(separator: " | ")
    }

    static func format(_ seconds: Double) -> String { String(Double(Int((seconds * 10).rounded())) / 10) }

    // MARK: the workloads' checks

    /// A GET with R = N through each key's turn of node, every live value's numbers.
    func finalRead(_ key: [UInt8], _ clients: [CairnClient], turn: Int) async -> [Int]? {
        let replicas = options.replicas
        return await firstAnswer(clients, turn: turn) { try await $0.get(key: key, r: replicas) }
    }

    /// A serial read (Paxos) the same way.
    func serialRead(_ key: [UInt8], _ clients: [CairnClient], turn: Int) async -> [Int]? {
        await firstAnswer(clients, turn: turn) { try await $0.serialGet(key: key) }
    }

    /// The numbers of the first answer of `read`, trying the nodes from the key's turn on.
    func firstAnswer(_ clients: [CairnClient], turn: Int, _ read: (CairnClient) async throws -> CairnClient.Read) async -> [Int]? {
        for offset in clients.indices {
            if let answer = try? await read(clients[(turn + offset) % clients.count]) { return answer.siblings.flatMap(ChaosWorkload.elements) }
        }
        return nil
    }

    func checkSet(_ ops: [ChaosOp], _ clients: [CairnClient], _ report: inout Report) async {
        var checker = SetChecker()
        for op in ops where op.workload == .set && op.kind == .add {
            guard let element = op.value else { continue }
            let outcome: SetChecker.Outcome = switch op.outcome {
            case .ok: .acknowledged
            case .failed: .failed
            case .unknown: .unknown
            }
            checker.recordAdd(key: op.key, element: UInt64(element), outcome: outcome)
        }
        var finals: [Int: Set<UInt64>] = [:]
        for key in keys(.set) {
            guard let values = await finalRead(key.bytes, clients, turn: key.number) else {
                report.check(false, "set: the final read of \(String(decoding: key.bytes, as: UTF8.self)) failed on every node")
                return
            }
            finals[key.number] = Set(values.map { UInt64($0) })
        }
        let verdict = checker.check(finalReads: finals)
        report.lost += verdict.lost.values.reduce(0) { $0 + $1.count }
        report.invented += verdict.invented.values.reduce(0) { $0 + $1.count }
        report.resurrected += verdict.resurrected.values.reduce(0) { $0 + $1.count }
        report.check(verdict.isValid, "set: \(verdict) (lost \(verdict.lost.values.reduce(0) { $0 + $1.count }), "
            + "invented \(verdict.invented.values.reduce(0) { $0 + $1.count }), resurrected \(verdict.resurrected.values.reduce(0) { $0 + $1.count }))")
    }

    func checkRegisters(_ ops: [ChaosOp], _ clients: [CairnClient], _ report: inout Report, after sequenceEnd: Int) async {
        var call = sequenceEnd
        for key in keys(.cas) {
            let name = String(decoding: key.bytes, as: UTF8.self)
            var history: [RegisterOp] = []
            var siblingReads = 0
            for op in ops where op.workload == .cas && op.key == key.number && op.outcome != .failed {
                let ret = op.ret ?? Int.max
                let kind: RegisterOp.Kind = switch op.kind {
                case .cas: .cas(expected: op.expected, new: op.value)
                case .write: .write(op.value)
                default: .read
                }
                let result: RegisterOp.Result
                if op.outcome == .unknown {
                    guard op.kind != .read else { continue }  // a read with no answer says nothing
                    result = .unknown
                } else if op.kind == .read {
                    if (op.result?.count ?? 0) > 1 { siblingReads += 1 }
                    result = .read(op.result?.first)
                } else if op.kind == .cas && op.refused {
                    if (op.result?.count ?? 0) > 1 { siblingReads += 1 }
                    result = .failed(current: op.result?.first)
                } else {
                    result = .applied
                }
                history.append(RegisterOp(kind: kind, result: result, call: op.call, ret: ret))
            }
            // The final serial read, after everything else.
            call += 1
            let serial = await serialRead(key.bytes, clients, turn: key.number)
            if let serial {
                history.append(RegisterOp(kind: .read, result: .read(serial.first), call: call, ret: call + 1))
                call += 1
            }
            report.registers += 1
            switch RegisterChecker.isLinearizable(history.sorted { $0.call < $1.call }) {
            case true?:
                report.registersLinearizable += 1
                report.check(siblingReads == 0, "cas: \(name): \(history.count) operations linearizable"
                    + (siblingReads == 0 ? "" : ", but \(siblingReads) reads saw siblings"))
            case false?:
                report.check(false, "cas: \(name): history of \(history.count) operations is NOT linearizable")
            case nil:
                report.check(false, "cas: \(name): history of \(history.count) operations too large to check")
            }
            guard let serial else {
                report.check(false, "cas: \(name): the final serial read failed on every node")
                continue
            }
            let get = await finalRead(key.bytes, clients, turn: key.number + 1)
            report.check(get == serial, "cas: \(name): a GET with R = N reads \(get.map { "\($0)" } ?? "nothing") where the serial read reads \(serial)")
        }
    }

    func checkPlain(_ ops: [ChaosOp], _ clients: [CairnClient], _ report: inout Report, after sequenceEnd: Int) async {
        var checker = OverwriteChecker()
        for op in ops.filter({ $0.workload == .plain }).sorted(by: { $0.call < $1.call }) {
            switch op.kind {
            case .write, .delete:
                let index = checker.begin(key: op.key, value: op.value.map { UInt64($0) }, expiryMilliseconds: 0, call: op.call)
                if let ret = op.ret { checker.answer(key: op.key, index: index, acknowledged: op.outcome == .ok, ret: ret) }
            case .read where op.outcome == .ok:
                checker.recordRead(key: op.key, values: Set((op.result ?? []).map { UInt64($0) }), call: op.call, ret: op.ret ?? op.call,
                                   retMilliseconds: 0)
            default:
                break
            }
        }
        var finals: [Int: OverwriteChecker.Read] = [:]
        for key in keys(.plain) {
            guard let values = await finalRead(key.bytes, clients, turn: key.number) else {
                report.check(false, "plain: the final read of \(String(decoding: key.bytes, as: UTF8.self)) failed on every node")
                return
            }
            finals[key.number] = OverwriteChecker.Read(values: Set(values.map { UInt64($0) }), call: sequenceEnd, ret: sequenceEnd,
                                                       retMilliseconds: 0)
        }
        let problems = checker.check(finalReads: finals)
        report.plainLost += problems.count { $0.contains("is missing from read") }
        report.invented += problems.count { $0.contains("which no write had begun") }
        let acknowledged = ops.count { $0.workload == .plain && $0.kind != .read && $0.outcome == .ok }
        report.check(problems.isEmpty, problems.isEmpty
            ? "plain: no acknowledged write lost, no value from nowhere (\(acknowledged) acknowledged writes)"
            : "plain: \(problems.count) problems: " + problems.prefix(3).joined(separator: "; "))
    }

    /// ttl: nothing deleted or expired comes back, and every acknowledged value written
    /// without a TTL and not deleted is there — the simulator's `SetChecker`, with each value
    /// under a key of its own and a GET with R = N of every key written.
    func checkExpiries(_ ops: [ChaosOp], _ clients: [CairnClient], _ report: inout Report) async {
        var checker = SetChecker()
        for op in ops where op.workload == .ttl {
            guard let value = op.value else { continue }
            let outcome: SetChecker.Outcome = switch op.outcome {
            case .ok: .acknowledged
            case .failed: .failed
            case .unknown: .unknown
            }
            switch op.kind {
            case .write:
                checker.recordAdd(key: 0, element: UInt64(value), outcome: outcome)
                if let expiry = Self.latestExpiry(op) {
                    checker.recordExpiry(key: 0, element: UInt64(value), expiryMilliseconds: UInt64(max(0, expiry)))
                }
            case .delete:
                checker.recordDelete(key: 0, element: UInt64(value), outcome: outcome)
            default:
                break
            }
        }
        var found: Set<UInt64> = []
        for key in keys(.ttl) {
            guard let values = await finalRead(key.bytes, clients, turn: key.number) else {
                report.check(false, "ttl: the final read of \(String(decoding: key.bytes, as: UTF8.self)) failed on every node")
                return
            }
            found.formUnion(values.map { UInt64($0) })
        }
        let now = UInt64(max(0, options.elapsed()))
        let verdict = checker.check(finalReads: [0: found], atMilliseconds: now, clockToleranceMilliseconds: options.clockToleranceMilliseconds)
        report.lost += verdict.lost.values.reduce(0) { $0 + $1.count }
        report.invented += verdict.invented.values.reduce(0) { $0 + $1.count }
        report.resurrected += verdict.resurrected.values.reduce(0) { $0 + $1.count }
        let expiring = ops.count { $0.workload == .ttl && $0.ttlSeconds != nil && $0.outcome == .ok }
        let deleted = ops.count { $0.workload == .ttl && $0.kind == .delete && $0.outcome == .ok }
        report.check(verdict.isValid, "ttl: \(verdict) (\(expiring) acknowledged values with a TTL, \(deleted) acknowledged deletes; "
            + "resurrected \(verdict.resurrected.values.reduce(0) { $0 + $1.count }), lost \(verdict.lost.values.reduce(0) { $0 + $1.count }))")
    }

    /// When an acknowledged write with a TTL expires at the latest, in ms since the run began:
    /// its coordinator stamped the expiry before it answered. A write without an answer (or
    /// refused below W) may be applied much later — a paused node takes it when it resumes —
    /// so its expiry is unknown (nil), and so is whether it may still be there.
    static func latestExpiry(_ op: ChaosOp) -> Double? {
        guard let ttl = op.ttlSeconds, op.outcome == .ok, let end = op.end else { return nil }
        return end + Double(ttl) * 1_000
    }

    /// A scan of the run's prefix, page by page, lists exactly the keys whose final read holds
    /// a live value (ttl keys whose expiry is within the clock tolerance of now may go either way).
    func checkScan(_ ops: [ChaosOp], _ clients: [CairnClient], _ report: inout Report) async {
        let now = options.elapsed()
        let tolerance = Double(options.clockToleranceMilliseconds)
        let undecided = Set(ops.compactMap { op -> [UInt8]? in
            guard op.workload == .ttl, op.kind == .write, op.ttlSeconds != nil else { return nil }
            let key = ChaosWorkload.key(options.prefix, .ttl, op.key)
            guard let expiry = Self.latestExpiry(op) else { return key }  // no answer: it may apply any time
            return abs(expiry - now) <= tolerance ? key : nil
        })
        var expected: Set<[UInt8]> = []
        for workload in options.workloads {
            for key in keys(workload) where !undecided.contains(key.bytes) {
                let values = workload == .cas ? await serialRead(key.bytes, clients, turn: key.number)
                                              : await finalRead(key.bytes, clients, turn: key.number)
                if let values, !values.isEmpty { expected.insert(key.bytes) }
            }
        }
        var listed: [[UInt8]] = []
        var after: [UInt8]?
        let client = clients[0]
        repeat {
            guard let page = try? await client.scan(prefix: Array(options.prefix.utf8), limit: 100, after: after) else {
                report.check(false, "scan: a page of the scan failed")
                return
            }
            listed += page.keys.filter { !undecided.contains($0) }
            after = page.next
        } while after != nil
        let names = { (keys: [[UInt8]]) in keys.map { String(decoding: $0, as: UTF8.self) }.sorted().joined(separator: ", ") }
        report.check(Set(listed) == expected && listed.count == expected.count,
                     "scan: lists \(listed.count) keys, \(expected.count) hold values" + (Set(listed) == expected ? "" : " (listed: \(names(listed)); expected: \(names(Array(expected))))"))
    }
}
