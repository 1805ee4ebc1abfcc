extension CAS {
    /// The coordinator side of one CAS (or serial read) on one key: Cassandra's `cas` loop as a
    /// pure state machine.
    ///
    /// One attempt: prepare with a fresh ballot; on a strict majority of promises, if some
    /// promise carries an accepted proposal newer than the most recent commit among them,
    /// finish it first (re-propose it under our ballot, commit it on a majority of accepts) and
    /// start a new attempt. Otherwise the current value is what the promises' objects hold,
    /// merged: a read returns it; a CAS compares it with `expected` and either proposes `new`
    /// superseding what it read (on a majority of accepts it is chosen: commit it — each
    /// acceptor merges it into the key's object — and, on a majority of commits, report
    /// `.applied`) or reports `.failed(current:)`. An object with several live values (a plain
    /// write raced a CAS) is reported as `.siblings`; only an unconditional `.write` replaces
    /// them.
    /// A rejection by enough acceptors that no majority is left is contention: back off (a
    /// random delay from the seed) and retry with a higher ballot, at most `maxAttempts`
    /// attempts in all.
    ///
    /// Results and what they promise:
    /// - `.applied`: `new` was chosen; every later CAS or read sees it or a later value.
    /// - `.failed(current:)`: nothing of this operation was ever proposed, and `current`
    ///   (≠ `expected`) was the value at a point during the call.
    /// - `.read(current:)`: for `.read`, the value at a point during the call.
    /// - `.unknown`: `new` was proposed and may be chosen, now or later. Never reported as
    ///   failed: once this operation's own proposal has been sent, a later mismatch (which
    ///   may be the proposal itself, finished by another proposer) is also `.unknown`.
    /// - `.unavailable`: no majority answered in time (or contention outlasted the attempts)
    ///   before anything was proposed; nothing was written.
    ///
    /// The shell's duties: deliver the effects in order; send to exactly the N primaries of
    /// the key (no fallbacks); feed every reply with its sender; fire each timer once; run at
    /// most one proposer per key on a node; hand the next proposer for the key a
    /// `minimumCounter` above this one's `highestCounterSeen`.
    public struct Proposer: Sendable {
        public enum Operation: Hashable, Sendable {
            /// Set the value to `new` if it is `expected` (`nil` = absent: create only if absent).
            case compareAndSet(expected: Value, new: Value)
            /// Set the value to `new` unconditionally, through the same two phases (a blind
            /// write that stays linearizable with the CAS operations on the key).
            case write(new: Value)
            /// A linearizable read (Cassandra's SERIAL read): prepare, finish anything in
            /// progress, return the most recent commit.
            case read
        }

        public enum Outcome: Hashable, Sendable {
            case applied
            case failed(current: Value)
            case read(current: Value)
            /// The key holds several live values (written outside CAS); nothing was written.
            case siblings([[UInt8]])
            case unknown
            case unavailable
        }

        public struct Configuration: Hashable, Sendable {
            /// The key's N primaries. A strict majority of them must answer each phase.
            public var acceptors: [NodeID]
            /// How long one phase (prepare or propose) may wait for a majority.
            public var phaseTimeoutMilliseconds: Int
            /// Attempts (prepares) in all, counting retries after contention and restarts
            /// after finishing an in-progress proposal.
            public var maxAttempts: Int
            /// Backoff after the k-th contended attempt: uniform in 0...min(cap, base·2^(k-1)).
            public var backoffBaseMilliseconds: Int
            public var backoffCapMilliseconds: Int

            public init(acceptors: [NodeID], phaseTimeoutMilliseconds: Int = 1_000, maxAttempts: Int = 8,
                        backoffBaseMilliseconds: Int = 10, backoffCapMilliseconds: Int = 200) {
                precondition(!acceptors.isEmpty && Set(acceptors).count == acceptors.count,
                             "CAS acceptors must be distinct and non-empty: \(acceptors)")
                precondition(phaseTimeoutMilliseconds > 0 && maxAttempts > 0 && backoffBaseMilliseconds >= 0
                             && backoffCapMilliseconds >= backoffBaseMilliseconds,
                             "bad CAS configuration: timeout \(phaseTimeoutMilliseconds) ms, \(maxAttempts) attempts, backoff \(backoffBaseMilliseconds)...\(backoffCapMilliseconds) ms")
                self.acceptors = acceptors
                self.phaseTimeoutMilliseconds = phaseTimeoutMilliseconds
                self.maxAttempts = maxAttempts
                self.backoffBaseMilliseconds = backoffBaseMilliseconds
                self.backoffCapMilliseconds = backoffCapMilliseconds
            }

            public var majority: Int { acceptors.count / 2 + 1 }
        }

        /// A timer the proposer asked for; it comes back through `onTimer(_:now:)`.
        public struct Timer: Hashable, Sendable {
            public enum Kind: Hashable, Sendable {
                /// The current phase did not reach a majority in time.
                case phaseTimeout
                /// The backoff after contention is over: start the next attempt.
                case backoff
            }
            public var kind: Kind
            /// Which phase set it; a timer from an earlier phase is ignored.
            public var phase: UInt64
        }

        public enum Effect: Hashable, Sendable {
            case send(to: NodeID, Message)
            /// Call `onTimer(timer, now:)` once the monotonic clock reaches `at`.
            case schedule(Timer, at: MonotonicTime)
            /// The operation is over; nothing follows.
            case complete(Outcome)
        }

        enum Phase: Hashable, Sendable {
            case idle
            case preparing
            /// Finishing another proposer's in-progress proposal, re-proposed under our ballot.
            case repairing(Proposal)
            case proposing(Proposal)
            /// The proposal is chosen; waiting for a majority to have applied it.
            case committing(Proposal, repair: Bool)
            case backingOff
            case done(Outcome)
        }

        public let node: NodeID
        public let operation: Operation
        public let configuration: Configuration
        var phase: Phase = .idle
        var phaseNumber: UInt64 = 0
        public internal(set) var ballot: Ballot = .zero
        public internal(set) var attempts = 0
        /// The highest ballot counter this proposer has used or seen.
        public internal(set) var highestCounterSeen: UInt64
        /// Set once this operation's own value has been sent in a propose: from then on the
        /// value may be chosen, so the outcome can no longer be `.failed` or `.unavailable`.
        public internal(set) var mayHaveWritten = false
        var random: SplitMix64
        /// This phase's replies, one counted per acceptor (duplicates are ignored).
        var replied: Set<NodeID> = []
        var positive = 0
        var promises: [(accepted: Proposal?, committed: Proposal, object: DVVSet<[UInt8]>?)] = []
        /// The wall clock when the operation started: values expired by then read as absent.
        let wallNow: WallClockTime
        /// The monotonic time of the event being handled (timers are set from it).
        var now = MonotonicTime.zero

        /// - Parameters:
        ///   - minimumCounter: the lowest ballot counter to use (a clock reading, or one above
        ///     the previous proposer's `highestCounterSeen`).
        ///   - randomSeed: drives the backoff delays; CairnCore creates no randomness.
        public init(node: NodeID, operation: Operation, configuration: Configuration,
                    minimumCounter: UInt64 = 1, randomSeed: UInt64, wallNow: WallClockTime = .zero) {
            self.wallNow = wallNow
            self.node = node
            self.operation = operation
            self.configuration = configuration
            self.highestCounterSeen = max(minimumCounter, 1) - 1
            self.random = SplitMix64(seed: randomSeed)
        }

        /// The outcome, once the operation is over.
        public var outcome: Outcome? {
            if case .done(let outcome) = phase { return outcome }
            return nil
        }

        /// Starts the first attempt.
        public mutating func start(now: MonotonicTime) -> [Effect] {
            self.now = now
            precondition(phase == .idle, "CAS proposer started twice (phase \(phase))")
            return prepare()
        }

        /// A timer fired. Stale timers (from an earlier phase) are ignored.
        public mutating func onTimer(_ timer: Timer, now: MonotonicTime) -> [Effect] {
            guard timer.phase == phaseNumber else { return [] }
            self.now = now
            switch (timer.kind, phase) {
            case (.phaseTimeout, .preparing), (.phaseTimeout, .repairing), (.phaseTimeout, .proposing):
                return giveUp()
            case (.phaseTimeout, .committing(_, let repair)):
                // Chosen all the same: a later proposer finishes the commit where it is missing.
                return repair ? prepare() : finish(.applied)
            case (.backoff, .backingOff):
                return prepare()
            default:
                return []
            }
        }
    }
}
