import NIOCore

/// Runs a task's nonisolated code on one NIO event loop (a task executor preference,
/// SE-0417), so a request served from a connection does not hop to the global concurrent pool
/// and back: the service's code runs on the connection's loop, and when the node's actor has
/// that loop as its executor (`Node`), calling into it is a step in the loop's queue rather
/// than a wake-up of another thread.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) { self.loop = loop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
