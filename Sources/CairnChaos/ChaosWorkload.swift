import CairnClient
import CairnCore
import Synchronization

/// The clients of a chaos run: for each workload a few concurrent clients, each rotating over
/// the nodes, each request leaving from `sourceAddress` (127.0.0.100), so that a partition
/// between node addresses never cuts a client off from the node it talks to. Every operation
/// is recorded (`ChaosRecorder`) for the checkers.
///
/// Values are decimal numbers as text, unique per write (client × 1,000,000 + counter), so a
/// value names the write that produced it; a set is its elements, comma-separated.
public struct ChaosWorkload: Sendable {
    public struct Options: Sendable {
        /// The nodes' HTTP addresses, `host:port`.
        public var nodes: [String]
        public var workloads: [ChaosOp.Workload]
        public var clientsPerWorkload: Int
        public var keysPerWorkload: Int
        /// Every key starts with it (`<prefix><workload>-<n>`), so runs on one cluster never meet.
        public var prefix: String
        public var duration: Duration
        /// The local address requests leave from (nil: the system's choice).
        public var sourceAddress: String?
        /// One request's deadline; a request without an answer by then is `unknown`.
        public var requestTimeout: Duration
        /// A client's pause between two operations.
        public var pause: Duration
        public var seed: UInt64

        public init(nodes: [String], workloads: [ChaosOp.Workload] = ChaosOp.Workload.allCases, clientsPerWorkload: Int = 2,
                    keysPerWorkload: Int = 3, prefix: String, duration: Duration, sourceAddress: String? = "127.0.0.100",
                    requestTimeout: Duration = .seconds(5), pause: Duration = .milliseconds(20), seed: UInt64 = 1) {
            self.nodes = nodes
            self.workloads = workloads
            self.clientsPerWorkload = clientsPerWorkload
            self.keysPerWorkload = keysPerWorkload
            self.prefix = prefix
            self.duration = duration
            self.sourceAddress = sourceAddress
            self.requestTimeout = requestTimeout
            self.pause = pause
            self.seed = seed
        }
    }

    public let options: Options
    public let recorder: ChaosRecorder

    public init(options: Options, recorder: ChaosRecorder = ChaosRecorder()) {
        self.options = options
        self.recorder = recorder
    }

    /// The key `n` of `workload`.
    public static func key(_ prefix: String, _ workload: ChaosOp.Workload, _ n: Int) -> [UInt8] {
        Array("\(prefix)\(workload.rawValue)-\(n)".utf8)
    }

    /// Runs every client until the duration has passed; returns the history.
    public func run() async throws -> [ChaosOp] {
        let clients = try options.nodes.map { node in
            try CairnClient(node: node, timeout: options.requestTimeout, sourceAddress: options.sourceAddress)
        }
        defer { for client in clients { client.close() } }
        let deadline = ContinuousClock.now + options.duration
        await withTaskGroup(of: Void.self) { group in
            for workload in options.workloads {
                for index in 0..<options.clientsPerWorkload {
                    let number = (ChaosOp.Workload.allCases.firstIndex(of: workload)! + 1) * 100 + index
                    var random = SplitMix64(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(number))
                    group.addTask {
                        var client = Client(number: number, workload: workload, workloadRun: self, nodes: clients)
                        while ContinuousClock.now < deadline {
                            await client.step(&random)
                            try? await Task.sleep(for: options.pause)
                        }
                    }
                }
            }
        }
        return recorder.ops
    }

    /// One client: its counter of unique values and the last value it saw of each register.
    struct Client {
        let number: Int
        let workload: ChaosOp.Workload
        let workloadRun: ChaosWorkload
        let nodes: [CairnClient]
        var counter = 0
        var turn = 0
        var lastSeen: [Int: Int?] = [:]
        /// ttl: keys written without a TTL and acknowledged, with the context the PUT answered
        /// with, waiting to be deleted.
        var deletable: [(key: Int, context: String?)] = []

        var recorder: ChaosRecorder { workloadRun.recorder }
        var options: Options { workloadRun.options }

        mutating func nextValue() -> Int {
            counter += 1
            return number * 1_000_000 + counter
        }

        mutating func step(_ random: inout SplitMix64) async {
            turn += 1
            let node = nodes[(number + turn) % nodes.count]
            let key = Int(random.next() % UInt64(options.keysPerWorkload))
            let roll = random.next() % 100
            switch workload {
            case .set: await add(key: key, through: node)
            case .cas:
                if roll < 40 {
                    await casRead(key: key, through: node)
                } else if roll < 88 {
                    await compareAndSet(key: key, through: node)
                } else {
                    await forcedWrite(key: key, through: node)
                }
            case .plain:
                if roll < 50 {
                    await plainPut(key: key, through: node)
                } else if roll < 65 {
                    await plainDelete(key: key, through: node)
                } else {
                    await plainGet(key: key, through: node)
                }
            case .ttl:
                if roll < 45 {
                    await expiringPut(ttlSeconds: 1 + Int(random.next() % 4), through: node)
                } else if roll < 75 || deletable.isEmpty {
                    await expiringPut(ttlSeconds: nil, through: node)
                } else {
                    await deleteWritten(through: node)
                }
            }
        }

        func bytes(_ key: Int) -> [UInt8] { ChaosWorkload.key(options.prefix, workload, key) }

        func begin(_ kind: ChaosOp.Kind, key: Int, node: CairnClient, value: Int? = nil, expected: Int? = nil) -> ChaosOp {
            let (call, start) = recorder.invoke()
            return ChaosOp(workload: workload, client: number, node: node.node, key: key, kind: kind, value: value, expected: expected,
                           call: call, start: start)
        }

        /// set: read the key (siblings merged), add a new element, write with the context.
        mutating func add(key: Int, through node: CairnClient) async {
            let element = nextValue()
            var op = begin(.add, key: key, node: node, value: element)
            do {
                let read = try await node.get(key: bytes(key))
                var elements = Set(read.siblings.flatMap(ChaosWorkload.elements))
                elements.insert(element)
                let text = elements.sorted().map(String.init).joined(separator: ",")
                // With the read's context, superseding exactly what was read; a key read as never
                // written has no context, and then the write is blind (a sibling beside anything
                // written meanwhile), never plain: a plain write supersedes whatever a read quorum
                // holds when it begins, which may include a concurrent add.
                try await node.put(key: bytes(key), value: Array(text.utf8), context: read.context, blind: read.context == nil)
                recorder.finish(&op, .ok)
            } catch {
                recorder.finish(&op, ChaosWorkload.outcome(of: error), detail: "\(error)")
            }
        }

        /// Sends `request` as `op` and records how it ended: acknowledged, with the values a
        /// read returned (`values`), or the error's outcome. The answer, when there was one.
        @discardableResult
        func record<Answer>(_ op: ChaosOp, values: (Answer) -> [Int]? = { _ in nil }, _ request: () async throws -> Answer) async
            -> Answer?
        {
            var op = op
            do {
                let answer = try await request()
                recorder.finish(&op, .ok, result: values(answer))
                return answer
            } catch {
                recorder.finish(&op, ChaosWorkload.outcome(of: error), detail: "\(error)")
                return nil
            }
        }

        mutating func casRead(key: Int, through node: CairnClient) async {
            let key = key, name = bytes(key)
            guard let read = await record(begin(.read, key: key, node: node), values: { $0.siblings.flatMap(ChaosWorkload.elements) }, {
                try await node.serialGet(key: name)
            }) else { return }
            let values = read.siblings.flatMap(ChaosWorkload.elements)
            lastSeen[key] = values.count == 1 ? values[0] : nil
        }

        mutating func compareAndSet(key: Int, through node: CairnClient) async {
            let expected = lastSeen[key] ?? nil
            let new = nextValue()
            var op = begin(.cas, key: key, node: node, value: new, expected: expected)
            do {
                switch try await node.cas(key: bytes(key), expected: ChaosWorkload.text(expected), new: ChaosWorkload.text(new)) {
                case .applied:
                    lastSeen[key] = new
                    recorder.finish(&op, .ok)
                case .failed(let current):
                    let value = current.flatMap { ChaosWorkload.elements($0).first }
                    lastSeen[key] = value
                    recorder.finish(&op, .ok, result: value.map { [$0] } ?? [], refused: true)
                case .siblings(let values):
                    recorder.finish(&op, .ok, result: values.flatMap(ChaosWorkload.elements), refused: true, detail: "siblings")
                }
            } catch {
                recorder.finish(&op, ChaosWorkload.outcome(of: error), detail: "\(error)")
            }
        }

        mutating func forcedWrite(key: Int, through node: CairnClient) async {
            let new = nextValue(), name = bytes(key)
            if await record(begin(.write, key: key, node: node, value: new), { try await node.casForce(key: name, new: ChaosWorkload.text(new)) }) != nil {
                lastSeen[key] = new
            }
        }

        mutating func plainPut(key: Int, through node: CairnClient) async {
            let value = nextValue(), name = bytes(key)
            await record(begin(.write, key: key, node: node, value: value), { try await node.put(key: name, value: ChaosWorkload.text(value)!) })
        }

        mutating func plainDelete(key: Int, through node: CairnClient) async {
            let name = bytes(key)
            await record(begin(.delete, key: key, node: node), { try await node.delete(key: name) })
        }

        /// ttl: a value under a key of its own (its number is the value), with a time to live or,
        /// without one, to be deleted later.
        mutating func expiringPut(ttlSeconds: Int?, through node: CairnClient) async {
            let value = nextValue(), name = bytes(value)
            var op = begin(.write, key: value, node: node, value: value)
            op.ttlSeconds = ttlSeconds
            let context = await record(op) {
                try await node.put(key: name, value: ChaosWorkload.text(value)!, ttlSeconds: ttlSeconds.map(Int64.init), blind: true)
            }
            if ttlSeconds == nil, let context { deletable.append((value, context)) }
        }

        /// ttl: delete a value this client wrote, with the context its PUT answered with, so the
        /// delete supersedes exactly that write (a plain delete supersedes what a read quorum
        /// holds, which a sloppy quorum in a partition may not).
        mutating func deleteWritten(through node: CairnClient) async {
            let (key, context) = deletable.removeFirst()
            let name = bytes(key)
            await record(begin(.delete, key: key, node: node, value: key), { try await node.delete(key: name, context: context) })
        }

        mutating func plainGet(key: Int, through node: CairnClient) async {
            let name = bytes(key)
            await record(begin(.read, key: key, node: node), values: { $0.siblings.flatMap(ChaosWorkload.elements) }, {
                try await node.get(key: name)
            })
        }
    }

    // MARK: values and outcomes

    /// The numbers a stored value holds: one for a register or plain value, the elements of a set.
    public static func elements(_ value: [UInt8]) -> [Int] {
        String(decoding: value, as: UTF8.self).split(separator: ",").compactMap { Int($0) }
    }

    static func text(_ value: Int?) -> [UInt8]? { value.map { Array(String($0).utf8) } }

    /// How a failed request ended: not sent at all, or refused by the node, is `failed`; no
    /// answer in time, a dropped connection or the node's own `outcome_unknown` is `unknown`.
    /// A Dynamo write refused below W may still have reached a replica (the checkers allow
    /// either); a CAS refused otherwise than `outcome_unknown` got no majority of promises and
    /// proposed nothing, so it is left out of the linearizability check.
    static func outcome(of error: any Error) -> ChaosOp.Outcome {
        switch error as? CairnClientError {
        case .timedOut?, .connectionLost?: .unknown
        case .http(let status, let code, _)? where status == 504 || code == "outcome_unknown": .unknown
        default: .failed
        }
    }
}

/// Where a run's operations are written down: one sequence of `call`/`ret` numbers for every
/// client (the order the linearizability checker reads), and times since the run began.
public final class ChaosRecorder: Sendable {
    struct State {
        var sequence = 0
        var ops: [ChaosOp] = []
    }

    private let state = Mutex(State())
    private let started = ContinuousClock.now

    public init() {}

    /// Milliseconds since the run began.
    public func elapsed() -> Double {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }

    /// The next call number and the time of an invocation.
    func invoke() -> (call: Int, start: Double) {
        let time = elapsed()
        return state.withLock { state in
            state.sequence += 1
            return (state.sequence, time)
        }
    }

    /// Records `op` as ended now with `outcome`; an `unknown` one gets no `ret` (no answer came:
    /// it may take effect at any time), only the time the client gave up.
    func finish(_ op: inout ChaosOp, _ outcome: ChaosOp.Outcome, result: [Int]? = nil, refused: Bool = false, detail: String = "") {
        op.outcome = outcome
        op.result = result
        op.refused = refused
        op.detail = detail
        let time = elapsed()
        let finished = op
        state.withLock { state in
            var finished = finished
            finished.end = time
            if outcome != .unknown {
                state.sequence += 1
                finished.ret = state.sequence
            }
            state.ops.append(finished)
        }
    }

    /// Every operation recorded so far, in the order they ended.
    public var ops: [ChaosOp] { state.withLock { $0.ops } }

    /// The next number of the sequence, for an operation of the checks after the run.
    public func next() -> Int { state.withLock { state in state.sequence += 1; return state.sequence } }
}
