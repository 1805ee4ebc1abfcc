import CairnHTTP

/// SCAN over Cairn's cluster-wide prefix scan (docs/resp.md, "SCAN").
extension RESPExecutor {
    /// One page: `[cursor, [key…]]`. Cursor 0 starts (and, answered, ends) the scan; any other
    /// is a number `RESPScanCursors` handed out for the key the previous page ended after.
    /// Like Redis's, a page may hold fewer keys than COUNT, even none, before the scan ends.
    func scan(cursor: UInt64, pattern: RESPCommand.ScanPattern, count: Int, stringsOnly: Bool) async throws -> RESPValue {
        // Every Cairn value is a string: `TYPE hash` and the like match nothing.
        guard !stringsOnly else { return Self.scanPage(cursor: 0, keys: []) }
        let after: [UInt8]?
        if cursor == 0 {
            after = nil
        } else {
            guard let key = server.cursors.afterKey(for: cursor) else {
                throw RESPError("invalid cursor: unknown, or forgotten after \(server.cursors.capacity) newer ones; start again from 0")
            }
            after = key
        }
        switch pattern {
        case .exact(let key):
            // One key: a read decides, and the scan ends at once.
            let live = !(try await service.get(key: key, r: nil).siblings.isEmpty)
            return Self.scanPage(cursor: 0, keys: live ? [key] : [])
        case .prefix(let prefix):
            let page = try await service.scan(prefix: prefix, limit: count, after: after, values: false)
            let next = page.nextAfter.map { server.cursors.cursor(after: $0) } ?? 0
            return Self.scanPage(cursor: next, keys: page.keys)
        }
    }

    static func scanPage(cursor: UInt64, keys: [[UInt8]]) -> RESPValue {
        .array([.bulk(String(cursor)), .bulks(keys)])
    }
}
