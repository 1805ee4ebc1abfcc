import CairnCore
import CairnHTTP
import Tracing

/// Request tracing across the coordinator and the replicas (swift-distributed-tracing; the
/// tracer is the process's `InstrumentationSystem`, a no-op unless `cairnd` bootstraps one).
///
/// When the process traces (`RequestTracing`), a client request through the HTTP API runs
/// inside its server span (the Redis protocol's commands are not traced). Every request the
/// node core sends a peer while that span's context is the task's (`ServiceContext.current`)
/// gets a client span and travels `.traced` with the tracer's propagation headers; the peer
/// answers it inside a server span whose parent is that client span. So one PUT shows as the
/// coordinator's span, a child per replica asked, and under each the replica's own span.
enum NodeTracing {
    /// Writes and reads a context's propagation headers into a dictionary.
    struct Headers: Injector, Extractor {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }

    /// The message to send a peer and the client span that covers the request (nil outside a
    /// traced request, or when the tracer propagates nothing).
    static func outgoing(_ message: WireMessage, to peer: NodeID) -> (message: WireMessage, span: (any Span)?) {
        guard RequestTracing.isEnabled, let context = ServiceContext.current, message.role == .request else { return (message, nil) }
        let span = InstrumentationSystem.tracer.startSpan("cairn.peer \(message.messageType)", context: context, ofKind: .client)
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(span.context, into: &headers, using: Headers())
        // Headers the peer would refuse (a long tracestate, baggage) leave the request untraced.
        guard !headers.isEmpty, WireMessage.isValidTraceContext(headers) else {
            span.end()
            return (message, nil)
        }
        span.attributes["cairn.peer"] = peer.description
        return (.traced(context: headers, message), span)
    }

    /// The server span of a peer's traced request (nil when it is not traced).
    static func incoming(_ message: WireMessage, context headers: [String: String]?, from peer: NodeID, at node: NodeID) -> (any Span)? {
        guard let headers else { return nil }
        var context = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(headers, into: &context, using: Headers())
        let span = InstrumentationSystem.tracer.startSpan("cairn.replica \(message.messageType)", context: context, ofKind: .server)
        span.attributes["cairn.node"] = node.description
        span.attributes["cairn.peer"] = peer.description
        return span
    }

    /// Runs `body` with `context` as the task's service context (as it is when nil).
    static func within(_ context: ServiceContext?, _ body: () -> Void) {
        guard let context else { return body() }
        ServiceContext.withValue(context) { body() }
    }

    /// Ends a span with the outcome of the request it covers.
    static func end(_ span: (any Span)?, with reply: WireMessage?) {
        guard let span else { return }
        switch reply {
        case nil: span.setStatus(SpanStatus(code: .error, message: "no answer"))
        case .nack(let reason)?: span.setStatus(SpanStatus(code: .error, message: reason))
        case let answer?: span.attributes["cairn.reply"] = "\(answer.messageType)"
        }
        span.end()
    }
}
