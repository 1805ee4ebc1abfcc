import CairnCore
import CairnNodeCore

/// A node's disk in memory: replica records per key, hints, Paxos acceptor states and the
/// mint lease. It carries out a `StorageCommand` at once and says how it completed; when that
/// completion reaches the core is up to the test (see `CoreHarness`).
struct FakeDisk {
    var records: [[UInt8]: ReplicaRecord] = [:]
    /// The partition each record was stored under.
    var partitionOf: [[UInt8]: Int] = [:]
    var hints: [UInt64: HintEntry] = [:]
    var paxos: [[UInt8]: CAS.AcceptorState] = [:]
    /// The highest ballot counter of the acceptor states collected.
    var acceptorFloor: UInt64 = 0
    /// The last mint lease stored.
    var mintLease: UInt64 = 0

    mutating func perform(_ command: StorageCommand) -> StorageResult {
        switch command {
        case .read(let key, _, let hintIDs):
            return .read(records[key], hintObjects: hintIDs.compactMap { hints[$0]?.object })
        case .write(let key, let partition, let record, _):
            records[key] = record
            partitionOf[key] = partition
            return .done
        case .merge(let key, let partition, let object):
            partitionOf[key] = partition
            let before = records[key]
            let merged = before.map { DVVSet.sync($0.object, object) } ?? object
            records[key] = ReplicaRecord(object: merged, mintEpoch: before?.mintEpoch)
            return .merged(changed: merged != before?.object, object: merged)
        case .putHint(let entry):
            hints[entry.hint.id] = entry
            return .done
        case .readHints(let ids):
            return .hints(ids.compactMap { hints[$0] })
        case .readTree:
            // Every partition has a store here, empty of hashes (the tests ask only its shape).
            return .tree(MerkleTree())
        case .segmentObjects:
            return .objects([], next: nil)
        case .readAcceptor(let key, _):
            return .acceptor((paxos[key] ?? CAS.AcceptorState()).raised(toFloor: acceptorFloor), object: records[key]?.object)
        case .collectAcceptors(let after, let limit, let belowCounter):
            let page = paxos.map { (key: $0.key, state: $0.value) }.filter { item in after.map { $0.lexicographicallyPrecedes(item.key) } ?? true }
                .sorted { $0.key.lexicographicallyPrecedes($1.key) }.prefix(limit + 1)
            let plan = StorageResult.acceptorCollection(page: Array(page), limit: limit, belowCounter: belowCounter)
            acceptorFloor = max(acceptorFloor, plan.floor)
            for key in plan.remove { paxos[key] = nil }
            return .collected(count: plan.remove.count, next: plan.next)
        case .writePaxos(let key, let state):
            paxos[key] = state
            return .done
        case .readAcceptorStates(let after, let limit):
            let page = paxos.map { CAS.KeyedAcceptorState(key: $0.key, state: $0.value.raised(toFloor: acceptorFloor)) }
                .filter { item in after.map { $0.lexicographicallyPrecedes(item.key) } ?? true }
                .sorted { $0.key.lexicographicallyPrecedes($1.key) }.prefix(limit)
            return .acceptorStates(Array(page), next: page.count == limit ? page.last?.key : nil)
        case .readBatch:
            return .batch([], bytes: 0, isLast: true)
        case .heldPartitions:
            return .partitions(Array(Set(partitionOf.values)).sorted())
        case .dropPartition(let partition, _):
            let keys = partitionOf.filter { $0.value == partition }.map(\.key)
            for key in keys {
                records[key] = nil
                partitionOf[key] = nil
            }
            return .merged(changed: !keys.isEmpty, object: DVVSet())
        case .reapCandidates(let partition, let after, let limit, let wallNow):
            let keys = records.keys.filter { key in partitionOf[key] == partition && (after.map { $0.lexicographicallyPrecedes(key) } ?? true) }
                .sorted { $0.lexicographicallyPrecedes($1) }
            return .reapCandidates(listing: Array(keys.prefix(limit + 1)), limit: limit, wallNow: wallNow) {
                records[$0]?.object
            }
        case .readCopies(_, let keys, let hintIDs):
            return .copies(zip(keys, hintIDs).map { key, ids in
                (records[key].map { [$0.object] } ?? []) + ids.compactMap { hints[$0]?.object }
            })
        case .reap(let key, _, let expected):
            guard records[key]?.object == expected else { return .merged(changed: false, object: expected) }
            records[key] = nil
            return .merged(changed: true, object: expected)
        case .scan(let partitions, let prefix, let after, let limit, let values, let examineLimit, let wallNow):
            let listings = partitions.map { partition in
                Array(records.keys.filter { key in
                    partitionOf[key] == partition && key.starts(with: prefix) && (after.map { $0.lexicographicallyPrecedes(key) } ?? true)
                }.sorted { $0.lexicographicallyPrecedes($1) }.prefix(limit + 1))
            }
            return .scanned(ScanReply.merging(listings: listings, limit: limit, examineLimit: examineLimit, values: values,
                                              wallNow: wallNow) { _, key in records[key]?.object })
        }
    }
}
