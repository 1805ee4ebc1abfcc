/// One client operation of a chaos workload, as the client saw it: what it asked, of which
/// node, when it started and ended, and how it ended. A run's history is a file of these, one
/// per line (`line` / `init(line:)`), so a failed run can be examined and checked again.
///
/// `call` and `ret` are positions in one sequence shared by every client of the run (each
/// invocation and each answer takes the next number), the order the linearizability checker
/// needs; `start` and `end` are milliseconds since the run began, for the timeline.
public struct ChaosOp: Sendable, Hashable {
    public enum Workload: String, Sendable, CaseIterable {
        /// Unique elements added to a few keys by read → merge siblings → write with the context.
        case set
        /// A CAS register per key: serial reads, compare-and-sets and forced writes.
        case cas
        /// The seed's plain API: PUT, GET and DELETE without contexts.
        case plain
        /// Values with a time to live and deleted values, each under a key of its own: nothing
        /// expired or deleted may come back.
        case ttl
    }

    public enum Kind: String, Sendable {
        /// set: an element added.
        case add
        /// cas: a serial read; plain: a GET.
        case read
        /// cas: a compare-and-set from `expected` to `value`.
        case cas
        /// cas: a forced write of `value` (`"force": true`); plain: a PUT of `value`.
        case write
        /// plain: a DELETE.
        case delete
    }

    public enum Outcome: String, Sendable {
        /// Acknowledged (a read answered; a CAS applied or refused with the current value).
        case ok
        /// Refused or failed, and known not to have taken effect (nothing sent; a CAS without a
        /// majority of promises) — or, for Dynamo writes, failed below W: it may still have
        /// reached a replica, which the set and plain checkers allow.
        case failed
        /// No answer, or the node said the outcome is unknown: it may take effect at any time.
        case unknown
    }

    public var workload: Workload
    public var client: Int
    /// The node asked, `host:port`.
    public var node: String
    /// The key's number within its workload (the key is `<prefix><workload>-<key>`).
    public var key: Int
    public var kind: Kind
    /// The element added or the value written (nil: a delete, or absent).
    public var value: Int?
    /// A CAS's expected value (nil: absent).
    public var expected: Int?
    /// ttl: the time to live the value was written with, in seconds (nil: none).
    public var ttlSeconds: Int?
    public var call: Int
    /// Nil when no answer came (outcome unknown).
    public var ret: Int?
    public var start: Double
    /// When the answer came, or the client gave up.
    public var end: Double?
    public var outcome: Outcome
    /// What a read returned (its live values), or the current value a refused CAS reported
    /// (empty: absent). Nil for writes.
    public var result: [Int]?
    /// Whether a refused CAS was refused because the value differs (`true`), as opposed to
    /// applied (`false`); only for `kind == .cas` with outcome `.ok`.
    public var refused: Bool
    /// The error, for people reading the history.
    public var detail: String

    public init(workload: Workload, client: Int, node: String, key: Int, kind: Kind, value: Int? = nil, expected: Int? = nil,
                ttlSeconds: Int? = nil, call: Int, ret: Int? = nil, start: Double, end: Double? = nil, outcome: Outcome = .unknown,
                result: [Int]? = nil, refused: Bool = false, detail: String = "") {
        self.workload = workload
        self.client = client
        self.node = node
        self.key = key
        self.kind = kind
        self.value = value
        self.expected = expected
        self.ttlSeconds = ttlSeconds
        self.call = call
        self.ret = ret
        self.start = start
        self.end = end
        self.outcome = outcome
        self.result = result
        self.refused = refused
        self.detail = detail
    }

    /// The header line of a history file.
    public static let header = "# workload\tclient\tnode\tkey\tkind\tvalue\texpected\tttl_s\tcall\tret\tstart_ms\tend_ms\toutcome\tresult\trefused\tdetail"

    /// One tab-separated line: `-` for nil, lists comma-separated (`.` for an empty list).
    public var line: String {
        func int(_ value: Int?) -> String { value.map(String.init) ?? "-" }
        func ms(_ value: Double?) -> String { value.map { String(Int(($0 * 10).rounded())) } ?? "-" }
        let result = self.result.map { $0.isEmpty ? "." : $0.map(String.init).joined(separator: ",") } ?? "-"
        let detail = self.detail.isEmpty ? "-" : String(self.detail.map { $0 == "\t" || $0 == "\n" ? " " : $0 })
        return [workload.rawValue, String(client), node, String(key), kind.rawValue, int(value), int(expected), int(ttlSeconds), String(call),
                int(ret), ms(start), ms(end), outcome.rawValue, result, refused ? "1" : "0", detail].joined(separator: "\t")
    }

    /// Parses a line written by `line` (times in tenths of a millisecond); nil for anything else.
    public init?(line: Substring) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count == 16, let workload = Workload(rawValue: String(fields[0])), let client = Int(fields[1]),
              let key = Int(fields[3]), let kind = Kind(rawValue: String(fields[4])), let call = Int(fields[8]),
              let start = Int(fields[10]), let outcome = Outcome(rawValue: String(fields[12]))
        else { return nil }
        func int(_ field: Substring) -> Int?? { field == "-" ? .some(nil) : Int(field).map { .some($0) } }
        guard let value = int(fields[5]), let expected = int(fields[6]), let ttl = int(fields[7]), let ret = int(fields[9]),
              let end = int(fields[11]) else { return nil }
        var result: [Int]?
        switch fields[13] {
        case "-": result = nil
        case ".": result = []
        default:
            let numbers = fields[13].split(separator: ",").compactMap { Int($0) }
            guard numbers.count == fields[13].split(separator: ",").count else { return nil }
            result = numbers
        }
        self.init(workload: workload, client: client, node: String(fields[2]), key: key, kind: kind, value: value, expected: expected,
                  ttlSeconds: ttl, call: call, ret: ret, start: Double(start) / 10, end: end.map { Double($0) / 10 }, outcome: outcome,
                  result: result, refused: fields[14] == "1", detail: fields[15] == "-" ? "" : String(fields[15]))
    }

    /// Parses a history file's text, skipping the header and blank lines; the lines that do not
    /// parse are returned too, so a damaged file is reported rather than half read.
    public static func parse(_ text: String) -> (ops: [ChaosOp], bad: [String]) {
        var ops: [ChaosOp] = []
        var bad: [String] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            if let op = ChaosOp(line: line) { ops.append(op) } else { bad.append(String(line.prefix(120))) }
        }
        return (ops, bad)
    }
}
