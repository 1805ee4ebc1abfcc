import CairnCore
import CairnStorage
import Logging

/// Durable hints: writes this node holds for an unreachable primary (DESIGN.md §2), in their
/// own storage engine, keyed by the hint ledger's id.
///
/// Record value layout:
///
/// ```
///   +--------+-------------+-------------------+-----------+----------------+-----+-----------------+
///   | format | owner       | partition         | stored at | key length     | key | DVVSet encoding |
///   |  u8=1  | 16 bytes BE | varint            | varint ms | varint         |     |                 |
///   +--------+-------------+-------------------+-----------+----------------+-----+-----------------+
/// ```
///
/// Shared by the node's core instances: each reads, stores and deletes the hints of its own
/// partitions (the engine is safe to use from many threads).
final class HintStore: Sendable {
    struct Entry {
        var hint: HintLedger.Hint
        var key: [UInt8]
        var object: DVVSet<[UInt8]>
    }

    let engine: StorageEngine

    init(directory: String, options: StorageOptions, logger: Logger) throws {
        engine = try StorageEngine(directory: directory, options: options, logger: logger)
    }

    static func key(_ id: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: id >> (8 * (7 - $0))) } }

    nonisolated(nonsending) func put(_ entry: Entry) async throws {
        var bytes: [UInt8] = [1]
        bytes += entry.hint.owner.bytes
        Varint.append(UInt64(entry.hint.partition), to: &bytes)
        Varint.append(entry.hint.storedAt.millisecondsSince1970, to: &bytes)
        Varint.append(UInt64(entry.key.count), to: &bytes)
        bytes += entry.key
        bytes += entry.object.encode()
        try await engine.put(Self.key(entry.hint.id), bytes)
    }

    func get(_ id: UInt64) throws -> Entry? {
        guard let bytes = try engine.get(Self.key(id)) else { return nil }
        return Self.decode(id: id, bytes)
    }

    nonisolated(nonsending) func delete(_ id: UInt64) async throws { try await engine.delete(Self.key(id)) }

    /// Every hint on disk, for the ledger after a restart. Undecodable ones are skipped (and
    /// reported): anti-entropy repairs what they carried.
    func all(logger: Logger) throws -> [Entry] {
        try engine.scan(prefix: [], limit: Int.max).compactMap { key in
            let id = key.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard key.count == 8, let bytes = try engine.get(key) else { return nil }
            guard let entry = Self.decode(id: id, bytes) else {
                logger.warning("skipping an undecodable hint", metadata: ["cairn.hint": "\(id)"])
                return nil
            }
            return entry
        }
    }

    static func decode(id: UInt64, _ bytes: [UInt8]) -> Entry? {
        guard bytes.count > 17, bytes[0] == 1, let owner = NodeID(bytes: bytes[1..<17]) else { return nil }
        var offset = 17
        guard let partition = Varint.read(bytes, at: &offset), partition < UInt64(Ring.maximumPartitionCount),
              let storedAt = Varint.read(bytes, at: &offset),
              let keyLength = Varint.read(bytes, at: &offset), keyLength <= UInt64(bytes.count - offset) else { return nil }
        let key = Array(bytes[offset..<(offset + Int(keyLength))])
        offset += Int(keyLength)
        guard let object = try? DVVSet<[UInt8]>(decoding: Array(bytes[offset...])) else { return nil }
        let hint = HintLedger.Hint(
            id: id, owner: owner, partition: Int(partition), keyHash: ReplicaStore.keyHash(key),
            bytes: bytes.count, storedAt: WallClockTime(millisecondsSince1970: storedAt))
        return Entry(hint: hint, key: key, object: object)
    }

    func close() throws { try engine.close() }
}
