import CairnStorage

/// Cairn's own engine, opened with the durability policy under test.
///
/// `.interval` is `.interval(milliseconds: 100)`, the default a node uses; `.always` is the
/// group-committing fsync-before-acknowledge policy.
final class CairnStore: BenchStore {
    let engine = EngineKind.cairn
    let level: DurabilityLevel
    let settings: String
    let storage: StorageEngine

    convenience init(directory: String, level: DurabilityLevel) throws {
        try self.init(directory: directory, level: level, options: StorageOptions(durability: CairnStore.durability(level)))
    }

    /// Opens with explicit options (the Cairn-only workloads turn background merge off).
    init(directory: String, level: DurabilityLevel, options: StorageOptions) throws {
        self.level = level
        settings = switch level {
        case .none: "durability=.none (no fsync while running)"
        case .interval: "durability=.interval(\(DurabilityLevel.intervalMilliseconds)ms) (background fsync)"
        case .always: "durability=.always (fsync before ack, group commit)"
        }
        do {
            storage = try StorageEngine(directory: directory, options: options)
        } catch {
            throw BenchError(engine: "cairn", operation: "open", message: "\(error)")
        }
    }

    static func durability(_ level: DurabilityLevel) -> Durability {
        switch level {
        case .none: .none
        case .interval: .interval(milliseconds: DurabilityLevel.intervalMilliseconds)
        case .always: .always
        }
    }

    func makeSession() throws -> any BenchSession { CairnSession(storage: storage) }

    func load(count: Int, pair: (Int) -> (key: [UInt8], value: [UInt8])) throws {
        for index in 0..<count {
            let (key, value) = pair(index)
            try cairnCall("put") { try storage.put(key, value) }
        }
    }

    func close() throws {
        try cairnCall("close") { try storage.close() }
    }
}

/// Cairn needs no per-thread state; the session forwards to the shared engine.
final class CairnSession: BenchSession {
    private let storage: StorageEngine

    init(storage: StorageEngine) { self.storage = storage }

    func put(_ key: [UInt8], _ value: [UInt8]) throws {
        try cairnCall("put") { try storage.put(key, value) }
    }

    func get(_ key: [UInt8]) throws -> Int? {
        try cairnCall("get") { try storage.get(key)?.count }
    }

    func scan(prefix: [UInt8], limit: Int) throws -> Int {
        try cairnCall("scan") { try storage.scan(prefix: prefix, limit: limit).count }
    }

    func close() {}
}

/// Rethrows an engine error as a `BenchError` naming the operation.
@inline(__always)
func cairnCall<T>(_ operation: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw BenchError(engine: "cairn", operation: operation, message: "\(error)")
    }
}
