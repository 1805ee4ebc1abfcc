/// The checker of the *plain overwrite* workload: clients PUT unique values (some with a TTL),
/// DELETE and GET a few keys with no context at all, as a user of a plain REST API does.
///
/// A plain write supersedes what its coordinator read from a read quorum before writing
/// (docs/versioning.md, "Plain writes"). So, seen from the clients:
///
/// - **No lost write.** Once the cluster healed and converged, a read with R = N holds every
///   acknowledged write's value, unless it expired, or some other write or delete *could* have
///   superseded it: one that had not finished before the write began (only then can its read
///   have seen the write). A broken merge that keeps the newest arrival over the older object
///   (`lastWriterWins`), or a write that supersedes values it never read, breaks this. Reads
///   while clients run may miss a write (a sloppy quorum need not overlap the write's), so
///   the rule applies to the final reads only.
/// - **No value from nowhere.** Every value read was written by a write that began before the
///   read returned.
/// - **Supersession** is checked at quiescence by the simulation itself (`checkOverwrites`):
///   once the cluster converged, one more plain PUT (or DELETE) through any node leaves exactly
///   its value (or nothing). A plain write that supersedes nothing (`plainWritesBlind`) leaves
///   every older value beside it.
///
/// Times are event indices (strictly increasing); expiry is compared in virtual milliseconds
/// with the read's return time, as the client filters expired values at that moment. Nodes
/// judge expiry by their own wall clocks, so a value within the clocks' skew of its expiry
/// (`clockToleranceMilliseconds`) may rightly be gone: a node whose clock runs ahead expires
/// it early, and may reap it once every replica's clock says it is dead.
public struct OverwriteChecker: Sendable {
    public struct Write: Sendable {
        /// The value written; `nil` for a delete.
        public var value: UInt64?
        public var expiryMilliseconds: UInt64
        public var call: Int
        /// When the answer came (any answer); `nil` while none came (it may take effect later).
        public var ret: Int?
        public var acknowledged = false
    }

    public struct Read: Sendable {
        public var values: Set<UInt64>
        public var call: Int
        public var ret: Int
        public var retMilliseconds: UInt64

        public init(values: Set<UInt64>, call: Int, ret: Int, retMilliseconds: UInt64) {
            self.values = values
            self.call = call
            self.ret = ret
            self.retMilliseconds = retMilliseconds
        }
    }

    public private(set) var writes: [Int: [Write]] = [:]
    public private(set) var reads: [Int: [Read]] = [:]

    /// Records the start of a write (or delete, `value == nil`); returns its index.
    public init() {}

    public mutating func begin(key: Int, value: UInt64?, expiryMilliseconds: UInt64, call: Int) -> Int {
        writes[key, default: []].append(Write(value: value, expiryMilliseconds: expiryMilliseconds, call: call))
        return writes[key]!.count - 1
    }

    /// Records the answer of write `index`.
    public mutating func answer(key: Int, index: Int, acknowledged: Bool, ret: Int) {
        writes[key]![index].ret = ret
        writes[key]![index].acknowledged = acknowledged
    }

    public mutating func recordRead(key: Int, values: Set<UInt64>, call: Int, ret: Int, retMilliseconds: UInt64) {
        reads[key, default: []].append(Read(values: values, call: call, ret: ret, retMilliseconds: retMilliseconds))
    }

    public var operationCount: Int { writes.values.reduce(0) { $0 + $1.count } + reads.values.reduce(0) { $0 + $1.count } }

    /// Every violation of the two rules above; `finalReads` are the values each key held at
    /// quiescence, read at `finalRead`.
    public func check(finalReads: [Int: Read], clockToleranceMilliseconds: UInt64 = 0) -> [String] {
        var problems: [String] = []
        for key in Set(writes.keys).union(reads.keys).sorted() {
            let keyWrites = writes[key] ?? []
            let callOf = Dictionary(keyWrites.compactMap { w in w.value.map { ($0, w.call) } }, uniquingKeysWith: min)
            for read in (reads[key] ?? []) + (finalReads[key].map { [$0] } ?? []) {
                for value in read.values where (callOf[value] ?? Int.max) >= read.ret {
                    problems.append("key \(key): read [\(read.call), \(read.ret)] returned \(value), which no write had begun to write")
                }
            }
            guard let read = finalReads[key] else { continue }
            do {
                for (index, write) in keyWrites.enumerated() {
                    guard write.acknowledged, let value = write.value, let ret = write.ret, ret < read.call else { continue }
                    if read.values.contains(value) { continue }
                    if write.expiryMilliseconds != 0 && write.expiryMilliseconds <= read.retMilliseconds &+ clockToleranceMilliseconds {
                        continue
                    }
                    let couldSupersede = keyWrites.indices.contains { other in
                        other != index && (keyWrites[other].ret ?? Int.max) > write.call
                    }
                    if !couldSupersede {
                        problems.append("key \(key): acknowledged write of \(value) [\(write.call), \(ret)] is missing from read "
                                        + "[\(read.call), \(read.ret)] → \(read.values.sorted()), and no later write could have superseded it")
                    }
                }
            }
        }
        return problems
    }
}
