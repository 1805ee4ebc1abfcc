/// Time and the queue of what happens next: the simulator's virtual clock, and the node
/// shell's timers (the effects that say "call me back at").
///
/// Events run in order of (time, insertion number), so two events at the same instant run in
/// the order they were scheduled: a simulated run is a pure function of its seed.
public struct EventQueue<Event>: Sendable where Event: Sendable {
    private struct Item: Sendable {
        var time: UInt64
        var order: UInt64
        var event: Event
    }

    private var heap: [Item] = []
    private var nextOrder: UInt64 = 0
    /// The current virtual time in milliseconds: the time of the last event taken.
    public private(set) var now: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { heap.isEmpty }
    public var count: Int { heap.count }
    /// The time of the earliest event, without taking it.
    public var peekTime: UInt64? { heap.first?.time }

    /// Schedules `event` at `time` (never before now).
    public mutating func schedule(_ event: Event, at time: UInt64) {
        heap.append(Item(time: max(time, now), order: nextOrder, event: event))
        nextOrder += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    public mutating func schedule(_ event: Event, after delay: UInt64) { schedule(event, at: now &+ delay) }

    /// Takes the earliest event and advances `now` to its time.
    public mutating func next() -> (time: UInt64, event: Event)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let item = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var first = parent
            if left < heap.count && Self.before(heap[left], heap[first]) { first = left }
            if right < heap.count && Self.before(heap[right], heap[first]) { first = right }
            if first == parent { break }
            heap.swapAt(parent, first)
            parent = first
        }
        now = item.time
        return (item.time, item.event)
    }

    /// Takes the earliest event if it is due at or before `time` (the node's timer loop).
    public mutating func next(dueBy time: UInt64) -> (time: UInt64, event: Event)? {
        guard let first = heap.first, first.time <= time else { return nil }
        return next()
    }

    private static func before(_ a: Item, _ b: Item) -> Bool {
        a.time != b.time ? a.time < b.time : a.order < b.order
    }
}
