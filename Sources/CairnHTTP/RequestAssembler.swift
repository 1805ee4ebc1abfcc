import NIOCore
import NIOHTTP1

/// The state of one connection's current request, as a pure machine: it takes the request
/// parts the HTTP decoder delivers and says what the channel handler must do.
///
/// It enforces the body limit while the body arrives (STYLE.md: a state machine that returns
/// actions, tested without a channel, like NIOHTTP1's upgrader state machine). A declared
/// `Content-Length` above the limit is refused at the head, before any body is read; a body
/// without one is refused as soon as it passes the limit. Either way the connection closes after
/// the 413, since the rest of the body is still on its way. One request is in progress at a
/// time: `HTTPServerPipelineHandler` holds pipelined requests back until the response is sent.
struct RequestAssembler {
    enum State {
        /// Between requests.
        case idle
        /// Reading the body of `head`, at most `limit` bytes.
        case receiving(head: HTTPRequestHead, body: ByteBuffer, limit: APIRequest.BodyLimit)
        /// A response to `head` went out before its body was read; the rest is dropped and the
        /// connection closes.
        case refused
        /// The request went to the service; its response is pending.
        case awaitingResponse(keepAlive: Bool)
    }

    enum Action: Equatable {
        /// Nothing to do yet.
        case none
        /// Answer `100 Continue`: the client waits for it before sending the body.
        case sendContinue
        /// Hand the request to the service and send its response.
        case dispatch(APIRequest, version: HTTPVersion, keepAlive: Bool)
        /// Send this response now (the request was malformed).
        case respond(APIResponse, version: HTTPVersion, keepAlive: Bool)
        /// Send this response, then close: the body it refuses is still arriving.
        case respondAndClose(APIResponse, version: HTTPVersion)
    }

    let limits: APILimits
    let replicationFactor: Int
    private(set) var state: State = .idle

    /// The node's client tokens; nil when it does not authenticate clients.
    let auth: ClientAuth?

    init(limits: APILimits, replicationFactor: Int, auth: ClientAuth? = nil) {
        self.limits = limits
        self.replicationFactor = replicationFactor
        self.auth = auth
    }

    /// Whether a request is being read or served (so idleness must not close the connection).
    var isServing: Bool {
        if case .awaitingResponse = state { return true }
        return false
    }

    mutating func receivedHead(_ head: HTTPRequestHead) -> Action {
        switch state {
        case .idle: break
        case .refused: return .none
        case .receiving, .awaitingResponse: preconditionFailure("request head while in state \(state)")
        }
        // Authentication first: nothing of an unauthenticated request is read or parsed.
        if let auth, let refusal = auth.check(HTTPRequestHeadView(uri: head.uri, authorization: head.headers["authorization"])) {
            state = .refused
            return .respondAndClose(.error(refusal), version: head.version)
        }
        let limit = APIRequest.bodyLimit(for: head, limits: limits)
        let declared = head.headers["content-length"].first.flatMap { Int($0) }
        if let declared, declared > limit.bytes {
            state = .refused
            return .respondAndClose(Self.tooLarge(limit), version: head.version)
        }
        let expectsContinue = head.headers["expect"].contains { $0.lowercased() == "100-continue" } && head.version == .http1_1
        if expectsContinue {
            // The client waits for a go-ahead before sending the body: give it only to a request
            // that can be served, and refuse the others before their body is sent.
            do {
                try APIRequest.checkHead(head)
            } catch {
                state = .refused
                return .respondAndClose(.error(error), version: head.version)
            }
        }
        // The body grows as its bytes arrive: a declared length reserves nothing.
        state = .receiving(head: head, body: ByteBuffer(), limit: limit)
        return expectsContinue ? .sendContinue : .none
    }

    /// Ends the request being received with `response` and closes the connection after it (a
    /// request too slow to arrive, a body the server has no memory left for).
    mutating func refuse(_ response: APIResponse) -> Action {
        switch state {
        case .idle:
            state = .refused
            return .respondAndClose(response, version: .http1_1)
        case .receiving(let head, _, _):
            state = .refused
            return .respondAndClose(response, version: head.version)
        case .awaitingResponse, .refused:
            return .none
        }
    }

    mutating func receivedBody(_ part: ByteBuffer) -> Action {
        switch state {
        case .receiving(let head, var body, let limit):
            guard body.readableBytes + part.readableBytes <= limit.bytes else {
                state = .refused
                return .respondAndClose(Self.tooLarge(limit), version: head.version)
            }
            // Avoid a copy-on-write of the accumulated body while it is taken out of `state`.
            state = .idle
            var part = part
            body.writeBuffer(&part)
            state = .receiving(head: head, body: body, limit: limit)
            return .none
        case .refused:
            return .none
        case .idle, .awaitingResponse:
            preconditionFailure("request body while in state \(state)")
        }
    }

    mutating func receivedEnd() -> Action {
        switch state {
        case .receiving(let head, var body, _):
            let bytes = body.readBytes(length: body.readableBytes) ?? []
            state = .awaitingResponse(keepAlive: head.isKeepAlive)
            do {
                let request = try APIRequest.parse(
                    head: head, body: bytes, limits: limits, replicationFactor: replicationFactor)
                return .dispatch(request, version: head.version, keepAlive: head.isKeepAlive)
            } catch {
                return .respond(.error(error), version: head.version, keepAlive: head.isKeepAlive)
            }
        case .refused:
            return .none
        case .idle, .awaitingResponse:
            preconditionFailure("request end while in state \(state)")
        }
    }

    /// The decoder found bytes that are not HTTP. The stream cannot be resynchronised, so the
    /// client gets a 400 (or 431 for oversize headers) unless a response is already pending,
    /// and the connection closes.
    mutating func parserFailed(_ error: HTTPParserError) -> Action {
        switch state {
        case .idle, .receiving:
            state = .refused
            let response: APIResponse =
                error == .headerOverflow
                ? .error(APIError(.headersTooLarge, "the request headers are larger than the server accepts"))
                : .error(APIError(.badRequest, "the request is not valid HTTP/1.1 (\(error))"))
            return .respondAndClose(response, version: .http1_1)
        case .awaitingResponse, .refused:
            state = .refused
            return .none
        }
    }

    /// The response to the current request has been written.
    mutating func responseSent() {
        switch state {
        case .awaitingResponse:
            state = .idle
        case .refused:
            break
        case .idle, .receiving:
            preconditionFailure("response sent while in state \(state)")
        }
    }

    /// The 413 for a body above `limit`.
    static func tooLarge(_ limit: APIRequest.BodyLimit) -> APIResponse {
        let detail: [String: JSONValue] = ["limit": .integer(Int64(limit.bytes))]
        if limit.isRawValue {
            return .error(
                APIError(.valueTooLarge, "the value is larger than \(limit.bytes) bytes, the value limit", detail: detail))
        }
        return .error(
            APIError(.bodyTooLarge, "the body is larger than \(limit.bytes) bytes, the limit for this request", detail: detail))
    }
}
