import CairnCore

/// One operation on a single register as a client saw it, for the linearizability checker.
/// Written values are unique integers, so a value names the write that produced it.
public struct RegisterOp: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case cas(expected: Int?, new: Int?)
        case write(Int?)
        case read
    }

    public enum Result: Sendable, Hashable {
        case applied
        case failed(current: Int?)
        case read(Int?)
        /// May or may not have taken effect, at any time after the call.
        case unknown
    }

    public var kind: Kind
    public var result: Result
    /// Event indices: `call` when invoked, `ret` when the result came back (`Int.max` for unknown).
    public var call: Int
    public var ret: Int

    public init(kind: Kind, result: Result, call: Int, ret: Int) {
        self.kind = kind
        self.result = result
        self.call = call
        self.ret = ret
    }

    public var description: String {
        func show(_ v: Int?) -> String { v.map(String.init) ?? "absent" }
        let op: String
        switch kind {
        case .cas(let e, let n): op = "cas(\(show(e))→\(show(n)))"
        case .write(let n): op = "write(\(show(n)))"
        case .read: op = "read"
        }
        let res: String
        switch result {
        case .applied: res = "applied"
        case .failed(let c): res = "failed(\(show(c)))"
        case .read(let v): res = "=\(show(v))"
        case .unknown: res = "unknown"
        }
        return "[\(call)…\(ret == Int.max ? "∞" : String(ret))] \(op) \(res)"
    }
}

/// Wing & Gong's search for a linearization of a register history (Wing and Gong, "Testing
/// and Verifying Concurrent Objects", 1993), with Lowe's memoisation of (linearized set,
/// register value) so the search visits each configuration once. An op may go next only if it
/// was called before every remaining op returned; `.unknown` ops never return and may be left
/// out entirely. Unique written values keep the search narrow: a read or a failed CAS names
/// the write it saw.
public enum RegisterChecker {
    struct Configuration: Hashable {
        var done: [UInt64]
        var value: Int?
    }

    /// Whether some order of the operations, consistent with their real-time order, explains
    /// every result. `maxConfigurations` bounds the search; past it the answer is `nil`.
    public static func isLinearizable(_ ops: [RegisterOp], initial: Int? = nil, maxConfigurations: Int = 2_000_000) -> Bool? {
        var visited: Set<Configuration> = []
        let words = (ops.count + 63) / 64
        let required = ops.indices.filter { ops[$0].result != .unknown }
        var start = Configuration(done: Array(repeating: 0, count: words), value: initial)
        var budget = maxConfigurations
        let found = search(ops, required: required, &start, &visited, &budget)
        return found ? true : (budget <= 0 ? nil : false)
    }

    /// The register after `op` from `value`, or nil if `op` cannot happen there.
    static func step(_ op: RegisterOp, from value: Int?) -> Int?? {
        switch (op.kind, op.result) {
        case (.cas(let expected, let new), .applied), (.cas(let expected, let new), .unknown):
            return value == expected ? .some(new) : nil
        case (.cas(let expected, _), .failed(let current)):
            return value == current && current != expected ? .some(value) : nil
        case (.write(let new), .applied), (.write(let new), .unknown):
            return .some(new)
        case (.read, .read(let seen)):
            return value == seen ? .some(value) : nil
        default:
            return nil
        }
    }

    private static func search(_ ops: [RegisterOp], required: [Int], _ config: inout Configuration,
                               _ visited: inout Set<Configuration>, _ budget: inout Int) -> Bool {
        func isDone(_ i: Int) -> Bool { config.done[i / 64] & (1 << UInt64(i % 64)) != 0 }
        if required.allSatisfy(isDone) { return true }
        guard budget > 0, visited.insert(config).inserted else { return false }
        budget -= 1
        var earliestReturn = Int.max
        for i in ops.indices where !isDone(i) { earliestReturn = min(earliestReturn, ops[i].ret) }
        for i in ops.indices where !isDone(i) && ops[i].call < earliestReturn {
            guard let next = step(ops[i], from: config.value) else { continue }
            var child = config
            child.done[i / 64] |= 1 << UInt64(i % 64)
            child.value = next
            if search(ops, required: required, &child, &visited, &budget) { return true }
        }
        return false
    }
}

/// Register values as the bytes CAS stores, and back (unique integers, 8 bytes big-endian).
public enum RegisterBytes {
    public static func bytes(_ n: Int?) -> CAS.Value {
        n.map { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * (7 - $0))) } }
    }

    public static func int(_ bytes: CAS.Value) -> Int? {
        bytes.map { $0.reduce(0) { $0 << 8 | Int($1) } }
    }
}
