import CairnCore
import CairnHTTP

/// GET, SET, DEL, EXISTS, TYPE, MGET, MSET: Redis's string commands over Cairn's reads and
/// writes (docs/resp.md, "Commands").
extension RESPExecutor {
    /// How often `SET … XX` reads again when the value changed under its compare-and-set.
    static let conditionalAttempts = 4

    /// The one value a Redis reader sees of `read`: the last sibling (the greatest dot), or
    /// nil for a key without a live value.
    static func shown(_ read: ReadResult) -> RESPValue {
        read.siblings.last.map(RESPValue.bulk) ?? .null
    }

    func get(_ key: [UInt8]) async throws -> RESPValue {
        Self.shown(try await service.get(key: key, r: nil))
    }

    func set(_ key: [UInt8], _ value: [UInt8], _ options: RESPCommand.SetOptions) async throws -> RESPValue {
        switch options.condition {
        case .always:
            guard options.returnOld || options.expiry == .keep else {
                let ttl: Duration? = if case .after(let ttl) = options.expiry { ttl } else { nil }
                try await write(key, value, ttl: ttl, supersedes: .current)
                return .ok
            }
            // GET and KEEPTTL need what the write replaces: read it, and supersede exactly that.
            let read = try await service.get(key: key, r: nil)
            let ttl: Duration? =
                switch options.expiry {
                case .none: nil
                case .after(let ttl): ttl
                case .keep: read.timesToLive.last ?? nil
                }
            try await write(key, value, ttl: ttl, supersedes: .context(read.context))
            return options.returnOld ? Self.shown(read) : .ok
        case .ifAbsent:
            switch try await service.cas(key: key, expected: nil, new: value) {
            case .applied: return options.returnOld ? .null : .ok
            case .failed(let current): return options.returnOld ? current.map(RESPValue.bulk) ?? .null : .null
            case .siblings(let values): return options.returnOld ? values.last.map(RESPValue.bulk) ?? .null : .null
            }
        case .ifPresent:
            var current = try await service.serialGet(key: key).siblings
            for _ in 0..<Self.conditionalAttempts {
                guard let expected = current.last else { return .null }
                guard current.count == 1 else { throw Self.siblingsError(count: current.count) }
                switch try await service.cas(key: key, expected: expected, new: value) {
                case .applied: return options.returnOld ? .bulk(expected) : .ok
                case .failed(let now): current = now.map { [$0] } ?? []
                case .siblings(let values): current = values
                }
            }
            throw RESPError(
                code: .changed, "the value changed under SET XX \(Self.conditionalAttempts) times; nothing was written, try again")
        }
    }

    /// Writes `value`; on a key compare-and-set manages, a write without a TTL goes through a
    /// forced compare-and-set instead (linearizable with the key's CAS operations; a CAS value
    /// carries no TTL, so one with a TTL is refused).
    func write(_ key: [UInt8], _ value: [UInt8], ttl: Duration?, supersedes: Supersedes) async throws {
        do {
            _ = try await service.put(key: key, value: value, ttl: ttl, supersedes: supersedes, w: nil)
        } catch let error as KeyValueServiceError where error.code == .casManaged && ttl == nil {
            _ = try await service.casWrite(key: key, new: value)
        }
    }

    /// Deletes what `read` found of `key` (nothing when it found no live value); `true` when
    /// there was a live value to delete. A key compare-and-set manages is deleted by a forced
    /// compare-and-set.
    func delete(_ key: [UInt8], read: ReadResult, supersedes: Supersedes) async throws -> Bool {
        guard !read.siblings.isEmpty else { return false }
        do {
            _ = try await service.delete(key: key, supersedes: supersedes, w: nil)
        } catch let error as KeyValueServiceError where error.code == .casManaged {
            _ = try await service.casWrite(key: key, new: nil)
        }
        return true
    }

    func delete(_ keys: [[UInt8]]) async throws -> RESPValue {
        // Each key once: the second DEL of a key in one command finds it gone, as in Redis.
        var seen: Set<[UInt8]> = []
        let unique = keys.filter { seen.insert($0).inserted }
        let deleted = try await concurrently(unique) { key in
            let read = try await service.get(key: key, r: nil)
            return try await delete(key, read: read, supersedes: .context(read.context))
        }
        return .integer(Int64(deleted.count { $0 }))
    }

    func exists(_ keys: [[UInt8]]) async throws -> RESPValue {
        // A key named twice counts twice, as in Redis.
        let live = try await concurrently(keys) { key in !(try await service.get(key: key, r: nil).siblings.isEmpty) }
        return .integer(Int64(live.count { $0 }))
    }

    func type(_ key: [UInt8]) async throws -> RESPValue {
        .simpleString(try await service.get(key: key, r: nil).siblings.isEmpty ? "none" : "string")
    }

    /// The values are counted as they arrive, so an answer over `maxReplyBytes` is refused
    /// before more than that (and the reads in flight) is held.
    func mget(_ keys: [[UInt8]]) async throws -> RESPValue {
        var bytes = 0
        let limit = limits.maxReplyBytes
        let values = try await concurrently(keys, admit: { (value: [UInt8]?) throws(RESPError) in
            bytes += value?.count ?? 0
            guard bytes <= limit else {
                throw RESPError("the values add up to more than the answer limit of \(limit) bytes; ask for fewer keys")
            }
        }) { key in try await service.get(key: key, r: nil).siblings.last }
        return .array(values.map { $0.map(RESPValue.bulk) ?? .null })
    }

    func mset(_ pairs: [RESPCommand.KeyValue]) async throws -> RESPValue {
        // Redis sets the pairs in order, so the last value of a key named twice stays: write
        // only that one (two concurrent writes of one key would become siblings).
        var last: [[UInt8]: Int] = [:]
        for (index, pair) in pairs.enumerated() { last[pair.key] = index }
        let writes = pairs.enumerated().filter { last[$0.element.key] == $0.offset }.map(\.element)
        _ = try await concurrently(writes) { pair in
            try await write(pair.key, pair.value, ttl: nil, supersedes: .current)
        }
        return .ok
    }

    static func siblingsError(count: Int) -> RESPError {
        RESPError(
            code: .siblings,
            "the key holds \(count) values written concurrently; read them with CAIRN.GETALL and resolve with CAIRN.PUT or a SET without options")
    }
}
