import CairnCore
import CairnHTTP

/// EXPIRE, PEXPIRE, PERSIST, TTL, PTTL: a key's time to live is its value's (docs/resp.md,
/// "Expiry").
///
/// Cairn keeps an expiry per sibling, set when the value is written; there is no separate
/// "touch the TTL" operation. EXPIRE and PERSIST therefore read the key and write its value
/// again with the new TTL, *conditionally*: the write supersedes what the read returned only
/// if nothing was written since (`Supersedes.contextIfCurrent`, HTTP's `If-Match`), and is
/// retried from a fresh read otherwise, so a value written meanwhile is never overwritten with
/// the old one.
extension RESPExecutor {
    func ttl(_ key: [UInt8], inMilliseconds: Bool) async throws -> RESPValue {
        let read = try await service.get(key: key, r: nil)
        guard !read.siblings.isEmpty else { return .integer(-2) }
        guard let left = read.timesToLive.last ?? nil else { return .integer(-1) }
        let milliseconds = Self.milliseconds(left)
        // Redis rounds TTL to the nearest second.
        return .integer(inMilliseconds ? milliseconds : milliseconds / 1_000 + (milliseconds % 1_000 >= 500 ? 1 : 0))
    }

    func expire(_ key: [UInt8], milliseconds: Int64) async throws -> RESPValue {
        try await rewrite(key) { read in
            guard milliseconds > 0 else { return .delete }
            return .write(ttl: .milliseconds(milliseconds))
        }
    }

    func persist(_ key: [UInt8]) async throws -> RESPValue {
        try await rewrite(key) { read in
            (read.timesToLive.last ?? nil) == nil ? .leave : .write(ttl: nil)
        }
    }

    private enum Rewrite {
        /// Nothing to do: answer 0.
        case leave
        /// Write the value again with this TTL: answer 1.
        case write(ttl: Duration?)
        /// Delete the key (EXPIRE with a time not in the future): answer 1.
        case delete
    }

    /// Reads `key` and, when it holds one live value, carries out what `decide` says with the
    /// condition that nothing changed since the read, reading again when something did.
    private func rewrite(_ key: [UInt8], _ decide: (ReadResult) -> Rewrite) async throws -> RESPValue {
        for _ in 0..<Self.conditionalAttempts {
            let read = try await service.get(key: key, r: nil)
            guard let value = read.siblings.last else { return .integer(0) }
            guard read.siblings.count == 1 else { throw Self.siblingsError(count: read.siblings.count) }
            do {
                switch decide(read) {
                case .leave:
                    return .integer(0)
                case .write(let ttl):
                    _ = try await service.put(key: key, value: value, ttl: ttl, supersedes: .contextIfCurrent(read.context), w: nil)
                case .delete:
                    _ = try await delete(key, read: read, supersedes: .contextIfCurrent(read.context))
                }
                return .integer(1)
            } catch let error as KeyValueServiceError where error.code == .preconditionFailed {
                continue
            } catch let error as KeyValueServiceError where error.code == .casManaged {
                throw RESPError(
                    code: .casManaged, "compare-and-set manages this key, and its values carry no time to live")
            }
        }
        throw RESPError(code: .changed, "the key changed \(Self.conditionalAttempts) times while its TTL was set; try again")
    }

    /// A time to live in whole milliseconds, rounded up (a live sibling has at least one left).
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        guard !overflow else { return .max }
        return whole + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}
