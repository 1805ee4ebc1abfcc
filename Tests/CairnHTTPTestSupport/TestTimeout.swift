public struct TimedOut: Error, CustomStringConvertible {
    public var description: String { "timed out" }
}

/// Runs `body`, failing with `TimedOut` after `seconds` so a broken server fails a test
/// instead of hanging the suite.
public func withTimeout<T: Sendable>(seconds: Double = 10, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
