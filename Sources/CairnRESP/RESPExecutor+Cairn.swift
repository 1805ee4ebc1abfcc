import CairnCore
import CairnHTTP

/// Cairn's own commands: siblings with their causal context, writes that carry one, and
/// compare-and-set (docs/resp.md, "Cairn's commands").
extension RESPExecutor {
    /// `CAIRN.GETALL`: `[[value…], context]`, every live sibling in the object's order (the
    /// last is the one GET shows) and the context to write with, as the HTTP API's
    /// `X-Cairn-Context` token. A serial read (through Paxos, for keys compare-and-set
    /// manages) has no context: its token is that of the empty context.
    func getAll(_ key: [UInt8], serial: Bool) async throws -> RESPValue {
        let read = serial ? try await service.serialGet(key: key) : try await service.get(key: key, r: nil)
        return .array([.bulks(read.siblings), .bulk(APIResponse.contextToken(read.context))])
    }

    /// `CAIRN.PUT`: supersedes exactly what the context covers (nothing for the empty string: a
    /// blind write, one more sibling); answers the stored object's context.
    func put(_ key: [UInt8], _ value: [UInt8], context: CausalContext, ttl: Duration?) async throws -> RESPValue {
        let stored = try await service.put(key: key, value: value, ttl: ttl, supersedes: .context(context), w: nil)
        return .bulk(APIResponse.contextToken(stored))
    }

    /// `CAIRN.DEL`: a tombstone superseding what the context covers; answers the new context.
    func delete(_ key: [UInt8], context: CausalContext) async throws -> RESPValue {
        .bulk(APIResponse.contextToken(try await service.delete(key: key, supersedes: .context(context), w: nil)))
    }

    /// `CAIRN.CAS`, `CASNX`, `CASDEL`: `["applied"]`, `["failed", current]` (current nil when
    /// the key is absent) or `["siblings", [value…]]` (several live values, nothing written).
    func cas(_ key: [UInt8], expected: [UInt8]?, new: [UInt8]?) async throws -> RESPValue {
        switch try await service.cas(key: key, expected: expected, new: new) {
        case .applied: .array([.bulk("applied")])
        case .failed(let current): .array([.bulk("failed"), current.map(RESPValue.bulk) ?? .null])
        case .siblings(let values): .array([.bulk("siblings"), .bulks(values)])
        }
    }
}
