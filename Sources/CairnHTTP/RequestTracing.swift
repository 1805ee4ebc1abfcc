import Synchronization

/// Whether the process traces requests: set once a real tracer is installed (`cairnd
/// --otel-endpoint`, a test's in-memory tracer). Until then the HTTP API opens no server span
/// and the node wraps no internode request, so a node without a tracer pays one atomic load per
/// request rather than a span's allocations (docs/operations.md, "Tracing").
public enum RequestTracing {
    private static let enabled = Atomic<Bool>(false)

    public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Call after bootstrapping `InstrumentationSystem` with a tracer that records.
    public static func enable() { enabled.store(true, ordering: .relaxed) }
}
