import NIOCore
import NIOHTTP1
import Testing

@testable import CairnHTTP

/// The connection state machine without a channel: body limits, 100-continue, parse results.
@Suite struct RequestAssemblerTests {
    static let limits = APILimits(maxKeyBytes: 16, maxValueBytes: 8, maxJSONBodyBytes: 64)

    func head(_ method: HTTPMethod, _ uri: String, _ headers: [(String, String)] = [], version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    func machine() -> RequestAssembler { RequestAssembler(limits: Self.limits, replicationFactor: 3) }

    @Test func aCompleteRequestIsDispatched() {
        var machine = machine()
        #expect(machine.receivedHead(head(.PUT, "/v1/keys/k", [("Content-Type", "application/octet-stream")])) == .none)
        #expect(machine.receivedBody(ByteBuffer(bytes: [1, 2])) == .none)
        #expect(machine.receivedBody(ByteBuffer(bytes: [3])) == .none)
        #expect(
            machine.receivedEnd()
                == .dispatch(.put(key: Array("k".utf8), value: [1, 2, 3], ttlSeconds: nil, supersedes: .current, w: nil), version: .http1_1, keepAlive: true))
        #expect(machine.isServing)
        machine.responseSent()
        #expect(!machine.isServing)
        #expect(machine.receivedHead(head(.GET, "/health", version: .http1_0)) == .none)
        #expect(machine.receivedEnd() == .dispatch(.health, version: .http1_0, keepAlive: false))
    }

    @Test func aMalformedRequestIsAnsweredWithoutTheService() {
        var machine = machine()
        _ = machine.receivedHead(head(.GET, "/v1/keys/k?r=9"))
        guard case .respond(let response, _, keepAlive: true) = machine.receivedEnd() else {
            Issue.record("not a response")
            return
        }
        #expect(response.status == .badRequest)
        machine.responseSent()
        #expect(machine.receivedHead(head(.GET, "/health")) == .none)
    }

    @Test func aDeclaredLengthOverTheLimitIsRefusedAtTheHead() {
        var machine = machine()
        let action = machine.receivedHead(head(.PUT, "/v1/keys/k", [("Content-Type", "application/octet-stream"), ("Content-Length", "9")]))
        guard case .respondAndClose(let response, _) = action else {
            Issue.record("not refused: \(action)")
            return
        }
        #expect(response.status == .payloadTooLarge)
        #expect((try? JSONParser.parse(response.body))?["error"]?["code"] == "value_too_large")
        // The rest of the request is dropped.
        #expect(machine.receivedBody(ByteBuffer(bytes: [1])) == .none)
        #expect(machine.receivedEnd() == .none)
    }

    @Test func aBodyWithoutLengthIsRefusedOnceItPassesTheLimit() {
        var machine = machine()
        #expect(machine.receivedHead(head(.PUT, "/v1/keys/k", [("Transfer-Encoding", "chunked")])) == .none)
        #expect(machine.receivedBody(ByteBuffer(repeating: 0x20, count: 64)) == .none)
        guard case .respondAndClose(let response, _) = machine.receivedBody(ByteBuffer(bytes: [0x20])) else {
            Issue.record("not refused")
            return
        }
        #expect((try? JSONParser.parse(response.body))?["error"]?["code"] == "body_too_large")
    }

    @Test func bodiesOfBodilessRequestsAreBoundedToo() {
        var machine = machine()
        _ = machine.receivedHead(head(.GET, "/health", [("Content-Length", String(Self.limits.maxIgnoredBodyBytes + 1))]))
        #expect(machine.receivedEnd() == .none)
    }

    @Test func continueIsSentOnlyWhenTheBodyIsAcceptable() {
        var machine = machine()
        #expect(machine.receivedHead(head(.PUT, "/v1/keys/k", [("Expect", "100-continue"), ("Content-Length", "10")])) == .sendContinue)
        var refusing = self.machine()
        let action = refusing.receivedHead(head(.PUT, "/v1/keys/k", [("Expect", "100-continue"), ("Content-Length", "65")]))
        guard case .respondAndClose = action else {
            Issue.record("not refused: \(action)")
            return
        }
    }

    @Test func parserErrorsAreAnsweredUnlessAResponseIsPending() {
        var idle = machine()
        guard case .respondAndClose(let response, _) = idle.parserFailed(.invalidVersion) else {
            Issue.record("not answered")
            return
        }
        #expect(response.status == .badRequest)
        var overflowing = machine()
        guard case .respondAndClose(let tooLarge, _) = overflowing.parserFailed(.headerOverflow) else {
            Issue.record("not answered")
            return
        }
        #expect(tooLarge.status == .requestHeaderFieldsTooLarge)
        var busy = machine()
        _ = busy.receivedHead(head(.GET, "/health"))
        _ = busy.receivedEnd()
        #expect(busy.parserFailed(.invalidVersion) == .none)
    }
}
