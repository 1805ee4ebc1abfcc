extension Quorum {
    /// The coordinator of one PUT or DELETE: sloppy-quorum targets, one replica mints the dot,
    /// the others receive the resulting object, success at W durable acks.
    ///
    /// Steps (DESIGN.md §2, "Versioning" and "Quorums"; Riak's `riak_kv_put_fsm`):
    ///
    /// 1. `start`: targets are the first N reachable nodes of the extended list. Fewer than W
    ///    fails at once. If this node is not a target it forwards the request, once, to the
    ///    first target (a primary whenever one is reachable) and relays that node's outcome.
    /// 2. It coordinates: `.coordinateLocally` asks the shell to apply `DVVSet.update` (or
    ///    `delete`) with the client's context to its own stored object and store the result
    ///    durably, then report `onCoordinated(object:)`. That counts as the first ack. The
    ///    shell may instead report `onMinted(object:)` as soon as the object is minted, before
    ///    it is durable, so the replicas store it while the local store waits for its fsync;
    ///    `onCoordinated` (or `onLocalStoreFailed`) then only reports the local ack. (A dot sent
    ///    before it was stored here must never be minted again: the shell's duty, see
    ///    `MintEpochs.trustedFrom`.)
    /// 3. `.replicate` sends the object to every other target; each fallback's copy names the
    ///    primary it stands for, so the receiver keeps it as a hint. A primary that is down with
    ///    no fallback left to stand in for it (a cluster of N nodes) gets `.storeHint`: the
    ///    coordinator itself keeps the hint (Cassandra's hinted handoff).
    /// 4. W distinct acks from targets decide success; a response timer or so many refusals
    ///    that W is out of reach decide failure. Exactly one `.reply` is ever emitted; events
    ///    after it change nothing.
    ///
    /// Caller's duties: acknowledge (`onAck`) only after the replica stored the object durably
    /// (and, on a fallback, its hint); validate nothing else — the machine checks W and N.
    public struct WriteCoordinator<Value: Hashable & Sendable>: Sendable {
        /// One client write as it reaches a node.
        public struct Request: Hashable, Sendable {
            public var keyHash: KeyHash
            public var partition: Int
            /// `ring.preferenceList(for: partition, n: n)`.
            public var preferenceList: [NodeID]
            /// `ring.extendedList(for: partition)`.
            public var extendedList: [NodeID]
            /// The causal context the client read, empty for a blind write.
            public var context: CausalContext
            /// The new value, or `.tombstone` for a delete.
            public var sibling: Sibling<Value>
            public var w: Int
            public var n: Int
            public var timeoutMilliseconds: UInt64
            /// The node that forwarded this request here, if any. A forwarded request is
            /// never forwarded again.
            public var forwardedBy: NodeID?

            public init(
                keyHash: KeyHash, partition: Int, preferenceList: [NodeID], extendedList: [NodeID],
                context: CausalContext, sibling: Sibling<Value>, w: Int, n: Int,
                timeoutMilliseconds: UInt64, forwardedBy: NodeID? = nil
            ) {
                self.keyHash = keyHash
                self.partition = partition
                self.preferenceList = preferenceList
                self.extendedList = extendedList
                self.context = context
                self.sibling = sibling
                self.w = w
                self.n = n
                self.timeoutMilliseconds = timeoutMilliseconds
                self.forwardedBy = forwardedBy
            }

            /// A delete: the same write with a tombstone sibling.
            public static func delete(
                keyHash: KeyHash, partition: Int, preferenceList: [NodeID], extendedList: [NodeID],
                context: CausalContext, w: Int, n: Int, timeoutMilliseconds: UInt64, forwardedBy: NodeID? = nil
            ) -> Request {
                Request(
                    keyHash: keyHash, partition: partition, preferenceList: preferenceList, extendedList: extendedList,
                    context: context, sibling: .tombstone, w: w, n: n,
                    timeoutMilliseconds: timeoutMilliseconds, forwardedBy: forwardedBy)
            }
        }

        /// What the client is told.
        public enum Outcome: Hashable, Sendable {
            /// W replicas stored the write; the context of the coordinator's resulting object.
            case stored(context: CausalContext)
            case failed(Failure)
        }

        public enum Effect: Hashable, Sendable {
            /// Call `onTimer(timer, now:)` once the monotonic clock reaches `at`.
            case schedule(Timer, at: MonotonicTime)
            /// Send the request (with `forwardedBy` set to this node) to `node`, which
            /// coordinates it; report its outcome with `onForwardedOutcome`.
            case forward(to: NodeID, request: Request)
            /// Apply `update(with: context, sibling, by: <this node's actor>)` to the stored
            /// object, store it durably (and the hint, when `hintFor` is set), then call
            /// `onCoordinated(object:now:)`, or `onCoordinationFailed`.
            case coordinateLocally(context: CausalContext, sibling: Sibling<Value>, hintFor: NodeID?)
            /// Send `object` to `to`, which merges it by `DVVSet.sync`, stores it durably (as a
            /// hint for `hintFor` when set) and answers; report with `onAck` / `onNack`.
            case replicate(to: NodeID, object: DVVSet<Value>, hintFor: NodeID?)
            /// Keep `object` here as a hint for `primary`, which is unreachable and has no
            /// fallback standing in for it (every node of the extended list is a target or
            /// down), as Cassandra's coordinator does. Does not count as an ack.
            case storeHint(for: NodeID, object: DVVSet<Value>)
            /// Answer the client. Emitted exactly once.
            case reply(Outcome)
        }

        enum Phase: Hashable, Sendable {
            case idle
            case forwarding(to: NodeID)
            case coordinating
            case replicating
            case decided
        }

        public let request: Request
        /// This node.
        public let local: NodeID
        /// The sloppy-quorum targets chosen at `start`, in extended-list order.
        public private(set) var targets: [Target] = []
        /// Targets that stored the write, this node included once it coordinated.
        public private(set) var acked: Set<NodeID> = []
        /// Targets that refused or failed to store it.
        public private(set) var refused: Set<NodeID> = []
        /// The client outcome, once decided.
        public private(set) var outcome: Outcome?
        private var phase: Phase = .idle
        /// The context of the coordinator's object, what a successful write hands back.
        private var coordinatedContext: CausalContext?
        /// The coordinator's object, kept to hint replicas that fail to store it.
        private var coordinatedObject: DVVSet<Value>?
        /// Minted and sent (`onMinted`), while the local store has not reported.
        private var localPending = false

        public init(request: Request, local: NodeID) {
            Quorum.checkLists(preferenceList: request.preferenceList, extendedList: request.extendedList, n: request.n)
            self.request = request
            self.local = local
        }

        /// Whether the client has been answered; the shell may drop the machine then.
        public var isDecided: Bool { outcome != nil }

        // MARK: inputs

        /// Starts the request. `isReachable` is this node's failure detector; this node always
        /// counts itself reachable.
        public mutating func start(now: MonotonicTime, isReachable: (NodeID) -> Bool) -> [Effect] {
            precondition(phase == .idle, "write for \(request.keyHash) started twice (phase \(phase))")
            guard (1...max(1, request.n)).contains(request.w) else {
                return decide(.failed(failure(.invalidQuorum(required: request.w, n: request.n))))
            }
            let local = self.local
            targets = Quorum.targets(extendedList: request.extendedList, n: request.n) { $0 == local || isReachable($0) }
            guard targets.count >= request.w else {
                return decide(.failed(failure(.tooFewReachable(reachable: targets.count, required: request.w))))
            }
            let timer = Effect.schedule(.response, at: now + request.timeoutMilliseconds)
            if let me = targets.first(where: { $0.node == local }) {
                phase = .coordinating
                return [timer, .coordinateLocally(context: request.context, sibling: request.sibling, hintFor: me.hintFor)]
            }
            guard request.forwardedBy == nil else {
                return decide(.failed(failure(.coordinatorNotTarget(forwardedBy: request.forwardedBy))))
            }
            let coordinator = targets[0].node
            var forwarded = request
            forwarded.forwardedBy = local
            phase = .forwarding(to: coordinator)
            return [timer, .forward(to: coordinator, request: forwarded)]
        }

        /// The local replica minted the dot and stored `object` durably: it is the first ack;
        /// send the object to the other targets. After `onMinted`, only the local ack.
        public mutating func onCoordinated(object: DVVSet<Value>, now: MonotonicTime) -> [Effect] {
            if localPending {
                localPending = false
                return onAck(from: local, now: now)
            }
            guard phase == .coordinating else { return [] }
            acked.insert(local)
            return replicate(object)
        }

        /// The local replica minted `object` and is storing it: send it to the other targets
        /// now; the local ack follows with `onCoordinated` (or a refusal, `onLocalStoreFailed`).
        public mutating func onMinted(object: DVVSet<Value>, now: MonotonicTime) -> [Effect] {
            guard phase == .coordinating else { return [] }
            localPending = true
            return replicate(object)
        }

        private mutating func replicate(_ object: DVVSet<Value>) -> [Effect] {
            phase = .replicating
            coordinatedContext = object.join()
            coordinatedObject = object
            var effects: [Effect] = targets.filter { $0.node != local }.map {
                .replicate(to: $0.node, object: object, hintFor: $0.hintFor)
            }
            // Primaries neither written nor stood in for get a hint held by this coordinator.
            let covered = Set(targets.map(\.node)).union(targets.compactMap(\.hintFor))
            for primary in request.preferenceList where !covered.contains(primary) {
                effects.append(.storeHint(for: primary, object: object))
            }
            if acked.count >= request.w {
                effects += decide(.stored(context: object.join()))
            }
            return effects
        }

        /// The local replica refused the write (`VersionError`, e.g. the sibling cap) or could
        /// not store it. Nothing was stored anywhere, so the write fails at once.
        public mutating func onCoordinationFailed(_ error: VersionError, now: MonotonicTime) -> [Effect] {
            guard phase == .coordinating else { return [] }
            return decide(.failed(failure(.rejected(error))))
        }

        /// The local store failed (I/O). Before `onMinted` nothing was replicated and the write
        /// fails; after it, the local replica counts as refused and the others may still reach W.
        public mutating func onLocalStoreFailed(message: String, now: MonotonicTime) -> [Effect] {
            if localPending {
                localPending = false
                guard phase == .replicating, isUnanswered(local) else { return [] }
                refused.insert(local)
                guard targets.count - refused.count < request.w else { return [] }
                return decide(.failed(failure(.localStoreFailed(message: message))))
            }
            guard phase == .coordinating else { return [] }
            return decide(.failed(failure(.localStoreFailed(message: message))))
        }

        /// `node` stored the replicated object durably. Duplicates, non-targets and acks after
        /// the decision change nothing.
        public mutating func onAck(from node: NodeID, now: MonotonicTime) -> [Effect] {
            guard phase == .replicating, isUnanswered(node) else { return [] }
            acked.insert(node)
            return acked.count >= request.w ? decide(.stored(context: coordinatedContext ?? CausalContext())) : []
        }

        /// `node` failed to store the object (refused, or the shell's per-replica request failed
        /// or timed out). The coordinator keeps a hint for the replica it was meant for, even
        /// after the client was answered, so the write reaches it when it is back (Cassandra
        /// hints replicas that do not answer). Fails early once W acks are out of reach.
        public mutating func onNack(from node: NodeID, now: MonotonicTime) -> [Effect] {
            guard phase == .replicating || (phase == .decided && coordinatedObject != nil), isUnanswered(node),
                  let target = targets.first(where: { $0.node == node }) else { return [] }
            refused.insert(node)
            var effects: [Effect] = []
            if let coordinatedObject { effects.append(.storeHint(for: target.hintFor ?? node, object: coordinatedObject)) }
            guard phase == .replicating, targets.count - refused.count < request.w else { return effects }
            return effects + decide(.failed(failure(.tooFewSucceeded(succeeded: acked.count, failed: refused.count, required: request.w))))
        }

        /// The coordinator this request was forwarded to answered.
        public mutating func onForwardedOutcome(_ forwardedOutcome: Outcome, from node: NodeID, now: MonotonicTime) -> [Effect] {
            guard case .forwarding(let coordinator) = phase, coordinator == node else { return [] }
            return decide(forwardedOutcome)
        }

        /// A timer fired. The response timer decides failure if nothing was decided yet.
        public mutating func onTimer(_ timer: Timer, now: MonotonicTime) -> [Effect] {
            guard timer == .response, outcome == nil, phase != .idle else { return [] }
            let received: Int
            if case .forwarding = phase { received = 0 } else { received = acked.count }
            return decide(.failed(failure(.timedOut(received: received, required: request.w))))
        }

        // MARK: helpers

        private func isUnanswered(_ node: NodeID) -> Bool {
            targets.contains { $0.node == node } && !acked.contains(node) && !refused.contains(node)
        }

        private func failure(_ reason: Failure.Reason) -> Failure {
            Failure(keyHash: request.keyHash, reason: reason)
        }

        private mutating func decide(_ decided: Outcome) -> [Effect] {
            precondition(outcome == nil, "write for \(request.keyHash) decided twice: \(String(describing: outcome)) then \(decided)")
            outcome = decided
            phase = .decided
            return [.reply(decided)]
        }
    }
}
