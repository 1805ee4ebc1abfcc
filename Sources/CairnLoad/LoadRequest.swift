/// The kinds of operation a run reports on, one row each.
public enum OperationKind: String, CaseIterable, Sendable, Hashable {
    case get, put, cas, scan
}

/// One request a transport sends, as bytes.
public enum LoadRequest: Sendable, Hashable {
    case get(key: [UInt8])
    case put(key: [UInt8], value: [UInt8])
    /// Set `key` to `new` if it holds `expected` (`nil`: absent).
    case cas(key: [UInt8], expected: [UInt8]?, new: [UInt8])
    /// Up to `limit` keys starting with `prefix`, after `after`.
    case scan(prefix: [UInt8], after: [UInt8], limit: Int)

    public var kind: OperationKind {
        switch self {
        case .get: .get
        case .put: .put
        case .cas: .cas
        case .scan: .scan
        }
    }
}

/// How a request ended when the transport got an answer. Errors are thrown instead.
public enum LoadOutcome: Sendable, Hashable {
    /// A read found a value.
    case found
    /// A read found none.
    case notFound
    /// A write was acknowledged.
    case written
    case applied
    /// The key did not hold the expected value; `current` is what it holds (`nil`: absent), so
    /// the next attempt can expect it.
    case notApplied(current: [UInt8]?)
    /// A scan answered with this many keys.
    case listed(keys: Int)
}
