@testable import CairnCore

/// One operation on a single CAS register as a client saw it, for the linearizability checker.
/// Written values are unique integers, so a value names the write that produced it.
struct RegisterOp: CustomStringConvertible {
    enum Kind: Equatable {
        case cas(expected: Int?, new: Int?)
        case read
    }

    enum Result: Equatable {
        case applied
        case failed(current: Int?)
        case read(Int?)
        /// May or may not have taken effect, at any time after the call.
        case unknown
    }

    var kind: Kind
    var result: Result
    /// Event indices: `call` when invoked, `ret` when the result came back (`Int.max` for unknown).
    var call: Int
    var ret: Int

    var description: String {
        func show(_ v: Int?) -> String { v.map(String.init) ?? "absent" }
        let op: String
        switch kind {
        case .cas(let e, let n): op = "cas(\(show(e))→\(show(n)))"
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

/// Wing & Gong's search for a linearization (Wing and Gong, "Testing and Verifying Concurrent
/// Objects", 1993), with Lowe's memoisation of (linearized set, register state) so the search
/// visits each configuration once. An op may go next only if it was called before every
/// remaining op returned; `.unknown` ops never return and may be left out entirely.
enum LinearizabilityChecker {
    struct Configuration: Hashable {
        var done: [UInt64]
        var value: Int?
    }

    static func isLinearizable(_ ops: [RegisterOp], initial: Int? = nil) -> Bool {
        var visited: Set<Configuration> = []
        let words = (ops.count + 63) / 64
        let required = ops.indices.filter { ops[$0].result != .unknown }
        var start = Configuration(done: Array(repeating: 0, count: words), value: initial)
        return search(ops, required: required, &start, &visited)
    }

    /// The register after `op` from `value`, or nil if `op` cannot happen there.
    static func step(_ op: RegisterOp, from value: Int?) -> Int?? {
        switch (op.kind, op.result) {
        case (.cas(let expected, let new), .applied), (.cas(let expected, let new), .unknown):
            return value == expected ? .some(new) : nil
        case (.cas(let expected, _), .failed(let current)):
            return value == current && current != expected ? .some(value) : nil
        case (.read, .read(let seen)):
            return value == seen ? .some(value) : nil
        default:
            return nil
        }
    }

    private static func search(_ ops: [RegisterOp], required: [Int], _ config: inout Configuration,
                               _ visited: inout Set<Configuration>) -> Bool {
        func isDone(_ i: Int) -> Bool { config.done[i / 64] & (1 << UInt64(i % 64)) != 0 }
        if required.allSatisfy(isDone) { return true }
        guard visited.insert(config).inserted else { return false }
        var earliestReturn = Int.max
        for i in ops.indices where !isDone(i) { earliestReturn = min(earliestReturn, ops[i].ret) }
        for i in ops.indices where !isDone(i) && ops[i].call < earliestReturn {
            guard let next = step(ops[i], from: config.value) else { continue }
            var child = config
            child.done[i / 64] |= 1 << UInt64(i % 64)
            child.value = next
            if search(ops, required: required, &child, &visited) { return true }
        }
        return false
    }
}
