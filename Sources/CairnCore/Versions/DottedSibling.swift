/// A sibling together with the dot of the write that made it, as a `DVVSet` lists them.
///
/// The `DVVSet` does not store a dot per sibling (Preguiça et al. 2012, §6: the siblings of
/// one actor are the newest counters of its entry, so their dots are implied); this type is
/// the expanded view for callers that need to name a sibling, e.g. to show it to a user.
public struct DottedSibling<Value: Hashable & Sendable>: Hashable, Sendable {
    public var dot: Dot
    public var sibling: Sibling<Value>

    public init(dot: Dot, sibling: Sibling<Value>) {
        self.dot = dot
        self.sibling = sibling
    }
}
