/// The checker of the Jepsen-style *set* workload: clients add unique elements to a few keys
/// (read → merge siblings → write with the context); at the end, after faults heal and repair
/// has run, every key is read once more and the checker compares.
///
/// - An element whose add was acknowledged must be in the final read (siblings count): anything
///   else is a **lost** write, the invariant Cairn exists to keep.
/// - An element never added must not appear: that would be invented data.
/// - An add that failed or timed out may or may not be there (a Dynamo write below W can still
///   have reached a replica), so it is neither required nor forbidden.
/// - An element removed by an acknowledged delete must not come back (DESIGN.md §6, "expired
///   or deleted data never comes back"). Elements are added once each, and a client deletes
///   only elements its read returned, so a delete always follows the element's write, whatever
///   order the two acknowledgements arrived in: an acknowledged delete decides.
/// - An element written with a TTL must be gone once its expiry has passed, and (acknowledged)
///   present before it. Nodes judge expiry by their own wall clocks, so within the clocks'
///   skew of its expiry (`clockToleranceMilliseconds`) either is right: a node whose clock runs
///   ahead expires it early — and may reap it, once every replica's clock says it is dead.
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
    private var expiries: [Key: [UInt64: UInt64]] = [:]

    public init() {}

    public mutating func recordAdd(key: Key, element: UInt64, outcome: Outcome) {
        events[key, default: [:]][element, default: []].append(.add(outcome))
    }

    public mutating func recordDelete(key: Key, element: UInt64, outcome: Outcome) {
        events[key, default: [:]][element, default: []].append(.delete(outcome))
    }

    /// An element written with an absolute expiry: absent from any read at or after it.
    public mutating func recordExpiry(key: Key, element: UInt64, expiryMilliseconds: UInt64) {
        expiries[key, default: [:]][element] = expiryMilliseconds
    }

    /// Compares the final reads (every key's merged siblings, as element sets, read at
    /// `atMilliseconds`) with the history.
    public func check(finalReads: [Key: Set<UInt64>], atMilliseconds now: UInt64 = 0, clockToleranceMilliseconds tolerance: UInt64 = 0)
        -> Report
    {
        var report = Report()
        for key in Set(events.keys).union(finalReads.keys).sorted() {
            let history = events[key] ?? [:]
            let read = finalReads[key] ?? []
            for (element, steps) in history {
                let expired = expiries[key]?[element].map { now >= $0 &+ tolerance } ?? false
                if expired || steps.contains(where: { if case .delete(.acknowledged) = $0 { true } else { false } }) {
                    if read.contains(element) { report.resurrected[key, default: []].append(element) }
                    continue
                }
                if let expiry = expiries[key]?[element], now &+ tolerance >= expiry {
                    // Within the clocks' skew of its expiry: present or gone, both are right.
                    report.indeterminate += 1
                    continue
                }
                let uncertainDelete = steps.contains { if case .delete = $0 { true } else { false } }
                let acknowledgedAdd = steps.contains { if case .add(.acknowledged) = $0 { true } else { false } }
                guard acknowledgedAdd, !uncertainDelete else {
                    report.indeterminate += 1
                    continue
                }
                report.acknowledged += 1
                if !read.contains(element) { report.lost[key, default: []].append(element) }
            }
            for element in read where history[element] == nil {
                report.invented[key, default: []].append(element)
            }
        }
        return report
    }
}
