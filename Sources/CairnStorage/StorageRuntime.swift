#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the engines of one process share: a bounded descriptor pool and two maintenance
/// threads, whatever the number of engines.
///
/// A node keeps one engine per partition it replicates (dozens or hundreds), so nothing here
/// grows with the engine count except a list of weak references. The *sync* thread runs the
/// `interval` durability policy of every engine; the *merge* thread writes hint files for
/// rolled-over files and merges, one engine at a time, so merges never pile up and never
/// take more than one core.
public final class StorageRuntime: Sendable {
    /// The runtime engines use unless told otherwise.
    public static let shared = StorageRuntime()

    let descriptors: FileDescriptorPool
    let mergeCheckMilliseconds: Int
    private let state: RuntimeState

    /// - Parameters:
    ///   - maxOpenFiles: the most descriptors of active files kept open at once.
    ///   - mergeCheckMilliseconds: how often the merge thread looks for files worth merging.
    public init(maxOpenFiles: Int = 256, mergeCheckMilliseconds: Int = 2000) {
        descriptors = FileDescriptorPool(capacity: maxOpenFiles)
        self.mergeCheckMilliseconds = mergeCheckMilliseconds
        state = RuntimeState()
    }

    /// Descriptors currently open in the pool.
    public var openDescriptors: Int { descriptors.openCount }

    func register(_ engine: StorageEngine) {
        state.lock.withLock {
            state.engines.removeAll { $0.engine == nil }
            state.engines.append(WeakEngine(engine: engine))
            if !state.started {
                state.started = true
                let s = state
                let check = mergeCheckMilliseconds
                startThread { s.syncLoop() }
                startThread { s.mergeLoop(checkMilliseconds: check) }
            }
        }
    }

    /// Wakes the merge thread (an active file rolled over and wants its hint file).
    func nudgeMerge() {
        state.lock.withLock {
            state.mergeNudged = true
            state.lock.broadcast()
        }
    }
}

struct WeakEngine {
    weak var engine: StorageEngine?
}

final class RuntimeState: @unchecked Sendable {
    let lock = ConditionLock()
    // Guarded by `lock`.
    var engines: [WeakEngine] = []
    var started = false
    var mergeNudged = false

    private func liveEngines() -> [StorageEngine] {
        lock.withLock { engines.compactMap(\.engine) }
    }

    func syncLoop() {
        while true {
            var nextMilliseconds = 200
            for engine in liveEngines() {
                if let wait = engine.backgroundSyncIfDue() { nextMilliseconds = min(nextMilliseconds, wait) }
            }
            lock.withLock { lock.wait(milliseconds: max(1, nextMilliseconds)) }
        }
    }

    func mergeLoop(checkMilliseconds: Int) {
        var sinceCheck = 0
        while true {
            let full = sinceCheck >= checkMilliseconds
            for engine in liveEngines() {
                engine.backgroundMaintenance(considerMerge: full)
            }
            if full { sinceCheck = 0 }
            let waited = lock.withLock { () -> Int in
                if !mergeNudged { lock.wait(milliseconds: 250) }
                mergeNudged = false
                return 250
            }
            sinceCheck += waited
        }
    }
}

/// Starts a detached pthread running `body` (the runtime's threads live as long as the
/// process; a group commit's committer until its engine closes).
func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
        box.body()
        return nil
    }, box)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(thread)
}
