/// One storage job per key at a time, the rest queued in arrival order.
///
/// Two coordinations of one key that both read the old object would mint the same dot for
/// different writes, and two merges that both read it would lose one of them; so every
/// read-modify-write of a key runs alone. Different keys proceed concurrently (and share
/// fsyncs through the engine's group commit).
struct KeyGate<Job: Sendable>: Sendable {
    private var busy: Set<[UInt8]> = []
    private var waiting: [[UInt8]: [Job]] = [:]

    var isEmpty: Bool { busy.isEmpty }

    /// Whether a job runs on a key for which `matches` holds.
    func isBusy(where matches: ([UInt8]) -> Bool) -> Bool { busy.contains(where: matches) }

    /// Takes the key for `job` and returns it to run now, or queues it behind the running one.
    mutating func enter(_ key: [UInt8], _ job: Job) -> Job? {
        if busy.insert(key).inserted { return job }
        waiting[key, default: []].append(job)
        return nil
    }

    /// The running job of `key` finished: the next one to run, or nil (the key is free).
    mutating func leave(_ key: [UInt8]) -> Job? {
        guard var queue = waiting[key], !queue.isEmpty else {
            busy.remove(key)
            return nil
        }
        let next = queue.removeFirst()
        waiting[key] = queue.isEmpty ? nil : queue
        return next
    }
}

/// A bounded set that forgets its oldest members first.
struct RecentSet<Element: Hashable & Sendable>: Sendable {
    let capacity: Int
    private var members: Set<Element> = []
    private var order: [Element] = []
    private var head = 0

    init(capacity: Int) {
        precondition(capacity > 0, "capacity \(capacity)")
        self.capacity = capacity
    }

    /// Inserts `element`; false if it was a member already.
    mutating func insert(_ element: Element) -> Bool {
        guard members.insert(element).inserted else { return false }
        order.append(element)
        if members.count > capacity {
            members.remove(order[head])
            head += 1
            if head > capacity {
                order.removeFirst(head)
                head = 0
            }
        }
        return true
    }
}
