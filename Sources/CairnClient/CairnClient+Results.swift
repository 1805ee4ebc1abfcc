import CairnHTTP

extension CairnClient {
    /// What a read found: every live sibling and the context that covers them.
    public struct Read: Hashable, Sendable {
        /// The live siblings' values: none when the key is absent, deleted or expired; one
        /// normally; several when concurrent writes left siblings.
        public var siblings: [[UInt8]]
        /// The opaque causal context (`X-Cairn-Context`). Send it with the next `put` or
        /// `delete` of the key to supersede every sibling read here. `nil` when the node sent
        /// none: the key has no history at all.
        public var context: String?

        public init(siblings: [[UInt8]], context: String?) {
            self.siblings = siblings
            self.context = context
        }

        /// No live value.
        public var isAbsent: Bool { siblings.isEmpty }

        /// The value when there is exactly one.
        public var value: [UInt8]? { siblings.count == 1 ? siblings[0] : nil }
    }

    /// One page of a prefix scan.
    /// One node's own copy of a key, and whether that node is one of the key's primaries.
    public struct ReplicaRead: Hashable, Sendable {
        public var read: Read
        public var isPrimary: Bool

        public init(read: Read, isPrimary: Bool) {
            self.read = read
            self.isPrimary = isPrimary
        }
    }

    public struct KeyPage: Hashable, Sendable {
        /// The keys, in byte order.
        public var keys: [[UInt8]]
        /// Pass as `after` for the next page; `nil` when the listing is complete. A page may
        /// hold fewer keys than asked, even none, and still have a `next`.
        public var next: [UInt8]?
        /// With `values`: each key's live values and context, as a GET returns them, in the
        /// order of `keys`.
        public var reads: [Read]?

        public init(keys: [[UInt8]], next: [UInt8]?, reads: [Read]? = nil) {
            self.keys = keys
            self.next = next
            self.reads = reads
        }
    }

    /// How a compare-and-set ended when its outcome is known (an unknown outcome is the
    /// error `.http(status: 504, code: "outcome_unknown", …)`).
    public enum CASResult: Hashable, Sendable {
        /// The new value was set.
        case applied
        /// Nothing was written: the current value (`nil`: absent) is not the expected one.
        case failed(current: [UInt8]?)
        /// Nothing was written: the key holds several values; a forced CAS replaces them.
        case siblings([[UInt8]])
    }

    /// The node's answer to `GET /health`.
    public struct Health: Hashable, Sendable {
        public var isHealthy: Bool
        public var details: [String: JSONValue]

        public init(isHealthy: Bool, details: [String: JSONValue]) {
            self.isHealthy = isHealthy
            self.details = details
        }
    }
}
