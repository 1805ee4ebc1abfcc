import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs closures on dedicated POSIX threads and collects what they return.
///
/// Plain threads rather than Swift concurrency: the engines under test block in system calls
/// (fsync, pread) and LMDB ties transactions to threads, so each worker must own its thread.
enum WorkerThreads {
    /// Runs `body(i)` for i in 0..<count, each on its own new thread; returns when all finish.
    static func run<Output: Sendable>(count: Int, _ body: @escaping @Sendable (Int) -> Output) -> [Output] {
        precondition(count > 0, "thread count \(count) must be positive")
        let slots = ResultSlots<Output>(count: count)
        let threads = (0..<count).map { index in
            spawn { slots.store(body(index), at: index) }
        }
        for thread in threads { join(thread) }
        return slots.take()
    }

    /// Starts `body` on a new thread; the caller must `join` the returned handle.
    static func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed with \(rc)")
        #if canImport(Glibc)
        return thread
        #else
        return thread!
        #endif
    }

    static func join(_ thread: pthread_t) {
        let rc = pthread_join(thread, nil)
        precondition(rc == 0, "pthread_join failed with \(rc)")
    }
}

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

private final class ResultSlots<Output: Sendable>: Sendable {
    private let slots: Mutex<[Output?]>

    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    func store(_ value: Output, at index: Int) {
        slots.withLock { $0[index] = value }
    }

    func take() -> [Output] {
        slots.withLock { values in
            values.enumerated().map { index, value in
                guard let value else { preconditionFailure("worker \(index) returned no result") }
                return value
            }
        }
    }
}
