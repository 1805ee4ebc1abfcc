import Synchronization

/// The continuations of `SCAN`s in progress, by cursor, shared by every connection of a server.
///
/// A Redis cursor is a number (redis-cli and redis-py parse it as one), while a Cairn scan
/// continues after a key of up to 1024 bytes. The server therefore keeps the key and hands out
/// a random number for it. The table is bounded: past `capacity` the oldest cursor is
/// forgotten, and a client that comes back with it is told to start again (`SCAN 0`). Cursors
/// are kept per server rather than per connection, so a client library that takes a different
/// pooled connection for each page still continues its scan — on the same node (each node has
/// its own table).
public final class RESPScanCursors: Sendable {
    private struct Table {
        var afterKeys: [UInt64: [UInt8]] = [:]
        /// Cursors in the order they were made, for eviction, from `orderStart` on.
        var order: [UInt64] = []
        var orderStart = 0
    }

    public let capacity: Int
    private let table = Mutex(Table())

    public init(capacity: Int = 4096) {
        precondition(capacity >= 1, "a cursor table holds at least one cursor, got \(capacity)")
        self.capacity = capacity
    }

    /// A new cursor that continues after `key`: a random number in `1...Int64.max` (0 means
    /// "start" and "done" in Redis), so that cursors cannot be guessed from one another.
    public func cursor(after key: [UInt8]) -> UInt64 {
        table.withLock { table in
            var cursor: UInt64
            repeat { cursor = UInt64.random(in: 1...UInt64(Int64.max)) } while table.afterKeys[cursor] != nil
            table.afterKeys[cursor] = key
            table.order.append(cursor)
            while table.afterKeys.count > capacity, table.orderStart < table.order.count {
                table.afterKeys.removeValue(forKey: table.order[table.orderStart])
                table.orderStart += 1
            }
            if table.orderStart > capacity {
                table.order.removeFirst(table.orderStart)
                table.orderStart = 0
            }
            return cursor
        }
    }

    /// The key `cursor` continues after (`nil`: unknown or forgotten). A cursor stays usable
    /// until it is evicted, so a client may repeat a page (after a timeout, say).
    public func afterKey(for cursor: UInt64) -> [UInt8]? {
        table.withLock { $0.afterKeys[cursor] }
    }

    /// Cursors held now.
    public var count: Int { table.withLock { $0.afterKeys.count } }
}
