import CairnNodeCore

/// The core's timers of one instance, grouped by the millisecond they are due.
///
/// Most timers are request deadlines and replica timeouts, scheduled a fixed time after each
/// request and rarely cancelled (the core ignores one whose request is done), so thousands are
/// pending at once and share few milliseconds. A binary heap of every timer cost a GET about 4%
/// of its CPU in heap pops over a large, cold array (docs/benchmarks.md, "Where the time of a
/// write goes"); here a timer is one append to its millisecond's list, and taking what is due is
/// one heap pop per millisecond. Timers due at the same millisecond fire in the order they were
/// scheduled, as with the simulator's `EventQueue`.
struct NodeTimers {
    private var buckets: [UInt64: [NodeTimer]] = [:]
    /// The milliseconds that have a bucket, as a binary min-heap.
    private var times: [UInt64] = []

    var isEmpty: Bool { times.isEmpty }

    /// The earliest millisecond anything is due.
    var peekTime: UInt64? { times.first }

    mutating func schedule(_ timer: NodeTimer, at time: UInt64) {
        if buckets[time]?.append(timer) == nil {
            buckets[time] = [timer]
            push(time)
        }
    }

    /// Takes every timer due at or before `time`, earliest first.
    mutating func takeDue(by time: UInt64) -> [NodeTimer] {
        var due: [NodeTimer] = []
        while let first = times.first, first <= time {
            popFirst()
            due += buckets.removeValue(forKey: first) ?? []
        }
        return due
    }

    private mutating func push(_ time: UInt64) {
        times.append(time)
        var child = times.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard times[child] < times[parent] else { break }
            times.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popFirst() {
        times.swapAt(0, times.count - 1)
        times.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var first = parent
            if left < times.count && times[left] < times[first] { first = left }
            if right < times.count && times[right] < times[first] { first = right }
            if first == parent { return }
            times.swapAt(parent, first)
            parent = first
        }
    }
}
