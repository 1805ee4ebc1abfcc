extension Handoff {
    /// Sends one partition to its new replica in throttled, resumable batches.
    ///
    /// The shell reads the partition's records in key order after a cursor, sends them, and
    /// reports back; the sender decides when to read next (so transfers never exceed
    /// `bytesPerSecond`) and when the cursor may be persisted: only after the target has
    /// acknowledged storing the batch, so a restart resumes without skipping anything (it may
    /// resend the last batch, which the target's DVVSet merge makes harmless).
    public struct Sender: Sendable {
        /// The sender's one timer: the throttle's pause, or the retry after a failed batch.
        public enum Timer: Sendable, Hashable {
            case wake
        }

        public enum Effect: Sendable, Equatable {
            /// Read up to `maxBytes` of the partition's records with keys after `cursor` (nil:
            /// from the start) and answer with `onBatchRead`.
            case read(partition: Int, after: [UInt8]?, maxBytes: Int)
            /// Send the batch just read to the target; answer with `onAcknowledged` or `onFailed`.
            case send(Transfer)
            /// Persist the cursor (resume point) of this transfer.
            case persistCursor(Transfer, [UInt8])
            /// Call `onTimer(timer, now:)` once the monotonic clock reaches `at`.
            case schedule(Timer, at: MonotonicTime)
            /// The whole partition is on the target.
            case completed(Transfer)
        }

        public let transfer: Transfer
        public let bytesPerSecond: Int
        public let batchBytes: Int
        public let retryMilliseconds: UInt64
        public private(set) var cursor: [UInt8]?
        public private(set) var bytesSent = 0
        public private(set) var keysSent = 0
        public private(set) var isDone = false
        /// The batch read and in flight: its last key, size, key count, and whether it ends the partition.
        private var inFlight: (lastKey: [UInt8]?, bytes: Int, keys: Int, isLast: Bool)?
        private var waitingForRead = false

        /// A sender starting at `cursor` (nil for a fresh transfer, the persisted cursor on resume).
        public init(_ transfer: Transfer, resumingAfter cursor: [UInt8]? = nil, bytesPerSecond: Int = 8 << 20,
            batchBytes: Int = 256 << 10, retryMilliseconds: UInt64 = 1_000)
        {
            precondition(bytesPerSecond > 0 && batchBytes > 0, "handoff rate \(bytesPerSecond) batch \(batchBytes)")
            self.transfer = transfer
            self.cursor = cursor
            self.bytesPerSecond = bytesPerSecond
            self.batchBytes = batchBytes
            self.retryMilliseconds = retryMilliseconds
        }

        public mutating func start(now: MonotonicTime) -> [Effect] { readNext() }

        /// The shell read a batch: `lastKey` nil with `keys == 0` means nothing is left.
        public mutating func onBatchRead(keys: Int, bytes: Int, lastKey: [UInt8]?, isLast: Bool, now: MonotonicTime) -> [Effect] {
            guard waitingForRead, !isDone else { return [] }
            waitingForRead = false
            if keys == 0 {
                isDone = true
                return [.completed(transfer)]
            }
            inFlight = (lastKey, bytes, keys, isLast)
            return [.send(transfer)]
        }

        /// The target durably stored the batch in flight.
        public mutating func onAcknowledged(now: MonotonicTime) -> [Effect] {
            guard let batch = inFlight, !isDone else { return [] }
            inFlight = nil
            bytesSent += batch.bytes
            keysSent += batch.keys
            var effects: [Effect] = []
            if let lastKey = batch.lastKey {
                cursor = lastKey
                effects.append(.persistCursor(transfer, lastKey))
            }
            if batch.isLast {
                isDone = true
                return effects + [.completed(transfer)]
            }
            // Throttle: the next batch may start once this one's bytes fit the rate.
            let pause = UInt64(batch.bytes) * 1000 / UInt64(bytesPerSecond)
            return effects + [.schedule(.wake, at: now + pause)]
        }

        /// The batch in flight failed (timeout, target down): send it again after a pause.
        public mutating func onFailed(now: MonotonicTime) -> [Effect] {
            guard inFlight != nil, !isDone else { return [] }
            inFlight = nil
            return [.schedule(.wake, at: now + retryMilliseconds)]
        }

        public mutating func onTimer(_ timer: Timer, now: MonotonicTime) -> [Effect] {
            guard !isDone, inFlight == nil, !waitingForRead else { return [] }
            return readNext()
        }

        private mutating func readNext() -> [Effect] {
            waitingForRead = true
            return [.read(partition: transfer.partition, after: cursor, maxBytes: batchBytes)]
        }
    }
}
