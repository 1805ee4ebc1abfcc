/// The checker of the Jepsen-style *set* workload: clients add unique elements to a few keys
/// (read → merge siblings → write with the context); at the end, after faults heal and repair
/// has run, every key is read once more and the checker compares.
///
/// - An element whose add was acknowledged must be in the final read (siblings count): anything
///   else is a **lost** write, the invariant Cairn exists to keep.
/// - An element never added must not appear: that would be invented data.
/// - An add that failed or timed out may or may not be there (a Dynamo write below W can still
///   have reached a replica), so it is neither required nor forbidden.
/// - An element removed by an acknowledged delete, with no later acknowledged add of it, must
///   not come back (DESIGN.md §6, "expired or deleted data never comes back").
public struct SetChecker: Sendable {
    public enum Outcome: Sendable, Equatable {
        case acknowledged
        case failed
        case unknown
    }

    public struct Report: Sendable, Equatable, CustomStringConvertible {
        public var lost: [Key: [UInt64]] = [:]
        public var invented: [Key: [UInt64]] = [:]
        public var resurrected: [Key: [UInt64]] = [:]
        public var acknowledged = 0
        public var indeterminate = 0

        public var isValid: Bool { lost.isEmpty && invented.isEmpty && resurrected.isEmpty }

        public var description: String {
            if isValid { return "valid: \(acknowledged) acknowledged adds present, \(indeterminate) indeterminate" }
            func show(_ m: [Key: [UInt64]]) -> String {
                m.keys.sorted().map { "key \($0): \(m[$0]!.sorted().prefix(10))" }.joined(separator: "; ")
            }
            var parts: [String] = []
            if !lost.isEmpty { parts.append("LOST \(show(lost))") }
            if !invented.isEmpty { parts.append("INVENTED \(show(invented))") }
            if !resurrected.isEmpty { parts.append("RESURRECTED \(show(resurrected))") }
            return parts.joined(separator: " | ")
        }
    }

    public typealias Key = Int

    private enum Event: Sendable {
        case add(Outcome)
        case delete(Outcome)
    }

    /// Per key and element, what clients did, in completion order.
    private var events: [Key: [UInt64: [Event]]] = [:]

    public init() {}

    public mutating func recordAdd(key: Key, element: UInt64, outcome: Outcome) {
        events[key, default: [:]][element, default: []].append(.add(outcome))
    }

    public mutating func recordDelete(key: Key, element: UInt64, outcome: Outcome) {
        events[key, default: [:]][element, default: []].append(.delete(outcome))
    }

    /// Compares the final reads (every key's merged siblings, as element sets) with the history.
    public func check(finalReads: [Key: Set<UInt64>]) -> Report {
        var report = Report()
        for key in Set(events.keys).union(finalReads.keys).sorted() {
            let history = events[key] ?? [:]
            let read = finalReads[key] ?? []
            for (element, steps) in history {
                // The last acknowledged step decides what must hold; an indeterminate step after it
                // makes the element's presence unknowable.
                guard let lastAck = steps.lastIndex(where: {
                    if case .add(.acknowledged) = $0 { return true }
                    if case .delete(.acknowledged) = $0 { return true }
                    return false
                }) else {
                    report.indeterminate += 1
                    continue
                }
                let laterUncertain = steps[(lastAck + 1)...].contains {
                    switch $0 {
                    case .add(.acknowledged), .delete(.acknowledged): false
                    default: true
                    }
                }
                if laterUncertain {
                    report.indeterminate += 1
                    continue
                }
                switch steps[lastAck] {
                case .add:
                    report.acknowledged += 1
                    if !read.contains(element) { report.lost[key, default: []].append(element) }
                case .delete:
                    if read.contains(element) { report.resurrected[key, default: []].append(element) }
                }
            }
            for element in read where history[element] == nil {
                report.invented[key, default: []].append(element)
            }
        }
        return report
    }
}
