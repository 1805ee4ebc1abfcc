extension Quorum {
    /// The coordinator of one GET: ask the first N reachable nodes, answer the client from the
    /// first R replies merged, then read-repair the replicas that answered with stale data.
    ///
    /// Steps (DESIGN.md §2, "Quorums"; Dynamo §4.5 and §5; Riak's `riak_kv_get_fsm`):
    ///
    /// 1. `start`: targets are the first N reachable nodes of the extended list (primaries
    ///    first). Fewer than R fails at once; otherwise `.read` goes to each target.
    /// 2. Replies (an object, or not-found) from distinct targets are kept, at most one per
    ///    target, so the state is bounded by N. The R-th reply decides: the client gets the
    ///    `DVVSet.sync` of the replies so far (`.found`), or `.notFound` when every one of them
    ///    was not-found. Too many failed reads, or the response timer, decide failure.
    /// 3. After the decision the machine keeps collecting late replies until every target has
    ///    answered (or failed) or the repair timer fires. Then it merges everything it received
    ///    and sends `.repair` to each replier whose reply differs from that merge (a not-found
    ///    reply included, unless everything was not-found). Repairs are best effort.
    ///
    /// The repair uses every reply, so a late reply that is newer than the answer the client got
    /// is still spread to the stale replicas; the client's answer is never revised.
    public struct ReadCoordinator<Value: Hashable & Sendable>: Sendable {
        public struct Request: Hashable, Sendable {
            public var keyHash: KeyHash
            public var partition: Int
            public var preferenceList: [NodeID]
            public var extendedList: [NodeID]
            public var r: Int
            public var n: Int
            public var timeoutMilliseconds: UInt64
            /// How long after the client's answer late replies are still awaited for repair.
            public var repairWindowMilliseconds: UInt64

            public init(
                keyHash: KeyHash, partition: Int, preferenceList: [NodeID], extendedList: [NodeID],
                r: Int, n: Int, timeoutMilliseconds: UInt64, repairWindowMilliseconds: UInt64
            ) {
                self.keyHash = keyHash
                self.partition = partition
                self.preferenceList = preferenceList
                self.extendedList = extendedList
                self.r = r
                self.n = n
                self.timeoutMilliseconds = timeoutMilliseconds
                self.repairWindowMilliseconds = repairWindowMilliseconds
            }
        }

        public enum Outcome: Hashable, Sendable {
            /// The merged object: its `siblings` (tombstones and expired ones included; the
            /// shell reads them at `now`) and its `join()` context for the client's next write.
            case found(DVVSet<Value>)
            /// Every reply before the decision was not-found.
            case notFound
            case failed(Failure)
        }

        public enum Effect: Hashable, Sendable {
            /// Call `onTimer(timer, now:)` once the monotonic clock reaches `at`.
            case schedule(Timer, at: MonotonicTime)
            /// Read the key's stored object on `from` (locally when it is this node); report with
            /// `onReply` or `onReadFailed`.
            case read(from: NodeID)
            /// Answer the client. Emitted exactly once, before any `.repair`.
            case reply(Outcome)
            /// Send `object` to `to`, which merges it by `DVVSet.sync` and stores it (as a hint
            /// for `hintFor` when set). Fire and forget.
            case repair(to: NodeID, object: DVVSet<Value>, hintFor: NodeID?)
        }

        enum Phase: Hashable, Sendable {
            case idle
            /// Waiting for R replies.
            case reading
            /// Answered; waiting for late replies until all targets answered or the repair timer.
            case collecting
            case finished
        }

        public let request: Request
        public let local: NodeID
        public private(set) var targets: [Target] = []
        /// The reply of each target that answered: its object, or `nil` for not-found.
        /// At most one per target.
        public private(set) var replies: [NodeID: DVVSet<Value>?] = [:]
        /// Targets whose read failed.
        public private(set) var failedReads: Set<NodeID> = []
        public private(set) var outcome: Outcome?
        private var phase: Phase = .idle

        public init(request: Request, local: NodeID) {
            Quorum.checkLists(preferenceList: request.preferenceList, extendedList: request.extendedList, n: request.n)
            self.request = request
            self.local = local
        }

        /// Whether the client has been answered.
        public var isDecided: Bool { outcome != nil }
        /// Whether the machine has nothing left to do; the shell may drop it.
        public var isFinished: Bool { phase == .finished }

        // MARK: inputs

        /// Starts the read. This node always counts itself reachable.
        public mutating func start(now: MonotonicTime, isReachable: (NodeID) -> Bool) -> [Effect] {
            precondition(phase == .idle, "read for \(request.keyHash) started twice (phase \(phase))")
            guard (1...max(1, request.n)).contains(request.r) else {
                return decide(.failed(failure(.invalidQuorum(required: request.r, n: request.n)))) + finish()
            }
            let local = self.local
            targets = Quorum.targets(extendedList: request.extendedList, n: request.n) { $0 == local || isReachable($0) }
            guard targets.count >= request.r else {
                return decide(.failed(failure(.tooFewReachable(reachable: targets.count, required: request.r)))) + finish()
            }
            phase = .reading
            return [.schedule(.response, at: now + request.timeoutMilliseconds)]
                + targets.map { .read(from: $0.node) }
        }

        /// `node` answered with its stored object, or `nil` when it has none.
        public mutating func onReply(from node: NodeID, object: DVVSet<Value>?, now: MonotonicTime) -> [Effect] {
            guard phase == .reading || phase == .collecting, isUnanswered(node) else { return [] }
            replies[node] = .some(object)
            return progress(now: now)
        }

        /// Reading from `node` failed (error or the shell's per-peer timeout).
        public mutating func onReadFailed(from node: NodeID, now: MonotonicTime) -> [Effect] {
            guard phase == .reading || phase == .collecting, isUnanswered(node) else { return [] }
            failedReads.insert(node)
            return progress(now: now)
        }

        /// A timer fired: the response timer fails an undecided read (repairing what arrived);
        /// the repair timer ends the wait for late replies.
        public mutating func onTimer(_ timer: Timer, now: MonotonicTime) -> [Effect] {
            switch (timer, phase) {
            case (.response, .reading):
                return decide(.failed(failure(.timedOut(received: replies.count, required: request.r)))) + finish()
            case (.repair, .collecting):
                return finish()
            default:
                return []
            }
        }

        // MARK: transitions

        private mutating func progress(now: MonotonicTime) -> [Effect] {
            var effects: [Effect] = []
            if phase == .reading {
                if replies.count >= request.r {
                    effects += decide(answer())
                    phase = .collecting
                    effects.append(.schedule(.repair, at: now + request.repairWindowMilliseconds))
                } else if targets.count - failedReads.count < request.r {
                    return decide(.failed(failure(.tooFewSucceeded(
                        succeeded: replies.count, failed: failedReads.count, required: request.r)))) + finish()
                }
            }
            if phase == .collecting, replies.count + failedReads.count == targets.count {
                effects += finish()
            }
            return effects
        }

        /// The client's answer from the replies so far.
        private func answer() -> Outcome {
            let merged = Self.merge(replies.values)
            return merged.map { .found($0) } ?? .notFound
        }

        /// Sends the read repairs due, once, and ends the machine.
        private mutating func finish() -> [Effect] {
            phase = .finished
            guard let merged = Self.merge(replies.values) else { return [] }
            return targets.compactMap { target in
                guard let reply = replies[target.node], reply != merged else { return nil }
                return .repair(to: target.node, object: merged, hintFor: target.hintFor)
            }
        }

        /// `sync` of every object among `replies`; `nil` when all are not-found (or none).
        static func merge(_ replies: some Sequence<DVVSet<Value>?>) -> DVVSet<Value>? {
            replies.reduce(nil) { merged, reply in
                guard let reply else { return merged }
                return merged.map { DVVSet.sync($0, reply) } ?? reply
            }
        }

        private func isUnanswered(_ node: NodeID) -> Bool {
            targets.contains { $0.node == node } && replies[node] == nil && !failedReads.contains(node)
        }

        private func failure(_ reason: Failure.Reason) -> Failure {
            Failure(keyHash: request.keyHash, reason: reason)
        }

        private mutating func decide(_ decided: Outcome) -> [Effect] {
            precondition(outcome == nil, "read for \(request.keyHash) decided twice: \(String(describing: outcome)) then \(decided)")
            outcome = decided
            return [.reply(decided)]
        }
    }
}
