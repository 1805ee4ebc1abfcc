import CairnCore
import CairnHTTPTestSupport
import NIOHTTP1
import Testing

@testable import CairnHTTP

/// Rendering of results and errors, and the service-error mapping, without a channel.
@Suite struct APIResponseTests {
    static let context = CausalContext([ReplicaActor(node: NodeID(high: 0, low: 9)): 2])
    static let token = ContextSeal.current.token(context)

    func json(_ response: APIResponse) throws -> JSONValue {
        #expect(response.headers["Content-Type"] == ["application/json"])
        return try JSONParser.parse(response.body)
    }

    @Test func oneValueIsA200WithValueAndContext() throws {
        let response = APIResponse.read(ReadResult(siblings: [Array("hi".utf8)], context: Self.context), format: .json)
        #expect(response.status == .ok)
        #expect(response.headers["X-Cairn-Context"] == [Self.token])
        #expect(try json(response) == ["value": "hi", "context": .string(Self.token)])
        // The token decodes back to the context.
        #expect(try ContextSeal.current.open(Self.token.utf8) == Self.context)
    }

    @Test func aBinaryValueTravelsAsBase64() throws {
        let response = APIResponse.read(ReadResult(siblings: [[0xFF, 0x00]], context: Self.context), format: .json)
        #expect(try json(response) == ["value_base64": "/wA=", "context": .string(Self.token)])
    }

    @Test func rawFormatSendsTheBytes() {
        let response = APIResponse.read(ReadResult(siblings: [[0xFF, 0x00]], context: Self.context), format: .raw)
        #expect(response.status == .ok)
        #expect(response.body == [0xFF, 0x00])
        #expect(response.headers["Content-Type"] == ["application/octet-stream"])
        #expect(response.headers["X-Cairn-Context"] == [Self.token])
    }

    @Test(arguments: [APIRequest.ValueFormat.json, .raw])
    func siblingsAreA300ListingEachWithOneContext(format: APIRequest.ValueFormat) throws {
        let result = ReadResult(siblings: [Array("a".utf8), [0x80]], context: Self.context)
        let response = APIResponse.read(result, format: format)
        #expect(response.status == .multipleChoices)
        #expect(response.headers["X-Cairn-Context"] == [Self.token])
        #expect(try json(response) == ["siblings": [["value": "a"], ["value_base64": "gA=="]], "context": .string(Self.token)])
    }

    @Test func absentIsA404WithTheContextOnlyWhenThereIsOne() throws {
        let absent = APIResponse.read(.absent, format: .json)
        #expect(absent.status == .notFound)
        #expect(absent.headers["X-Cairn-Context"] == [])
        #expect(try json(absent)["error"]?["code"] == "key_not_found")
        let deleted = APIResponse.read(ReadResult(siblings: [], context: Self.context), format: .raw)
        #expect(deleted.status == .notFound)
        #expect(deleted.headers["X-Cairn-Context"] == [Self.token])
    }

    @Test func scanPagesCarryKeysAndAPercentEncodedNext() throws {
        let page = APIResponse.scanPage(ScanPage(keys: [Array("a b".utf8), [0xFF]], nextAfter: [0xFF]))
        #expect(try json(page) == ["keys": [["key": "a b"], ["key_base64": "/w=="]], "next": "%FF"])
        let last = APIResponse.scanPage(ScanPage(keys: [], nextAfter: nil))
        #expect(try json(last) == ["keys": [], "next": nil])
    }

    @Test func casOutcomes() throws {
        #expect(APIResponse.cas(.applied).status == .ok)
        #expect(try json(.cas(.applied)) == ["applied": true])
        let failed = APIResponse.cas(.failed(current: Array("x".utf8)))
        #expect(failed.status == .preconditionFailed)
        #expect(try json(failed) == ["applied": false, "current": ["value": "x"]])
        #expect(try json(.cas(.failed(current: nil))) == ["applied": false, "current": nil])
    }

    @Test func healthAndMetrics() throws {
        #expect(APIResponse.health(HealthReport(isHealthy: true)).status == .ok)
        let sick = APIResponse.health(HealthReport(isHealthy: false, details: ["disk": "full"]))
        #expect(sick.status == .serviceUnavailable)
        #expect(try json(sick) == ["status": "unhealthy", "details": ["disk": "full"]])
        let metrics = APIResponse.metrics("a 1\n")
        #expect(metrics.headers["Content-Type"] == ["text/plain; version=0.0.4; charset=utf-8"])
        #expect(metrics.body == Array("a 1\n".utf8))
    }

    @Test func errorBodiesHaveCodeMessageAndDetail() throws {
        let error = APIError(.keyTooLong, "too long", detail: ["limit": 8])
        let response = APIResponse.error(error)
        #expect(response.status == .badRequest)
        #expect(try json(response) == ["error": ["code": "key_too_long", "message": "too long", "detail": ["limit": 8]]])
        #expect(try json(.error(APIError(.notFound, "no"))) == ["error": ["code": "not_found", "message": "no"]])
    }

    @Test func everyErrorCodeIsAnErrorStatus() {
        for code in APIError.Code.allCases {
            #expect(code.status.code >= 400, "\(code)")
            #expect(code.rawValue.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(code)")
        }
    }

    static let serviceErrors: [(KeyValueServiceError, HTTPResponseStatus, String)] = [
        (.quorumUnavailable(required: 2, acknowledged: 1), .serviceUnavailable, "quorum_unavailable"),
        (KeyValueServiceError(.timeout, "no answer in 5 s"), .gatewayTimeout, "timeout"),
        (KeyValueServiceError(.outcomeUnknown, "may have applied"), .gatewayTimeout, "outcome_unknown"),
        (.siblingLimitExceeded(limit: 4), .conflict, "sibling_limit_exceeded"),
        (KeyValueServiceError(.overloaded, "busy", retryAfterSeconds: 1), .serviceUnavailable, "overloaded"),
        (KeyValueServiceError(.unavailable, "joining"), .serviceUnavailable, "unavailable"),
        (.nodeNotFound("10.0.0.9:7080"), .notFound, "node_not_found"),
        (.membershipConflict("a node cannot remove itself; use leave"), .conflict, "membership_conflict"),
    ]

    @Test(arguments: serviceErrors)
    func serviceErrorsMapToTheirStatus(_ error: KeyValueServiceError, status: HTTPResponseStatus, code: String) throws {
        let response = APIResponse.failure(error)
        #expect(response.status == status)
        let body = try json(response)
        #expect(body["error"]?["code"] == .string(code))
        #expect(body["error"]?["message"] == .string(error.message))
    }

    @Test func serviceErrorDetailsAndHeaders() throws {
        let quorum = try json(.failure(KeyValueServiceError.quorumUnavailable(required: 2, acknowledged: 1)))
        #expect(quorum["error"]?["detail"] == ["required": 2, "acknowledged": 1])
        let overloaded = APIResponse.failure(KeyValueServiceError(.overloaded, "busy", retryAfterSeconds: 3))
        #expect(overloaded.headers["Retry-After"] == ["3"])
        #expect(try json(.failure(KeyValueServiceError.siblingLimitExceeded(limit: 4)))["error"]?["detail"] == ["limit": 4])
    }

    struct Secret: Error, CustomStringConvertible {
        var description: String { "value was hunter2" }
    }

    @Test func unknownErrorsAre500WithoutTheirText() throws {
        let response = APIResponse.failure(Secret())
        #expect(response.status == .internalServerError)
        #expect(!String(decoding: response.body, as: UTF8.self).contains("hunter2"))
        #expect(try json(response)["error"]?["code"] == "internal_error")
    }
}

/// `KeyValueService.respond(to:)` against the in-memory double: the operations end to end
/// without HTTP.
@Suite struct RespondingTests {
    @Test func writesReadsSiblingsAndResolution() async throws {
        let service = InMemoryKeyValueService()
        let key = Array("k".utf8)
        #expect(await service.respond(to: .get(key: key, r: nil, format: .json)).status == .notFound)
        #expect(await service.respond(to: .put(key: key, value: Array("a".utf8), ttlSeconds: nil, supersedes: .nothing, w: 2)).status == .ok)
        #expect(await service.respond(to: .put(key: key, value: Array("b".utf8), ttlSeconds: nil, supersedes: .nothing, w: nil)).status == .ok)
        let siblings = await service.respond(to: .get(key: key, r: 1, format: .json))
        #expect(siblings.status == .multipleChoices)
        let token = try #require(siblings.headers["X-Cairn-Context"].first)
        let context = try ContextSeal.current.open(token.utf8)
        #expect(await service.respond(to: .put(key: key, value: Array("c".utf8), ttlSeconds: nil, supersedes: .context(context), w: nil)).status == .ok)
        let resolved = await service.respond(to: .get(key: key, r: nil, format: .raw))
        #expect(resolved.status == .ok)
        #expect(resolved.body == Array("c".utf8))
        #expect(await service.calls.prefix(5) == ["get r=-", "put ttl=- w=2", "put ttl=- w=-", "get r=1", "put ttl=- w=-"])
    }

    @Test func expiredAndDeletedKeysReadAsAbsent() async throws {
        let service = InMemoryKeyValueService()
        let key = Array("t".utf8)
        _ = await service.respond(to: .put(key: key, value: [1], ttlSeconds: 10, supersedes: .current, w: nil))
        #expect(await service.respond(to: .get(key: key, r: nil, format: .json)).status == .ok)
        await service.advance(milliseconds: 10_000)
        #expect(await service.respond(to: .get(key: key, r: nil, format: .json)).status == .notFound)

        let other = Array("d".utf8)
        _ = await service.respond(to: .put(key: other, value: [1], ttlSeconds: nil, supersedes: .current, w: nil))
        let read = await service.respond(to: .get(key: other, r: nil, format: .json))
        let token = try #require(read.headers["X-Cairn-Context"].first)
        let context = try ContextSeal.current.open(token.utf8)
        #expect(await service.respond(to: .delete(key: other, supersedes: .context(context), w: nil)).status == .ok)
        let gone = await service.respond(to: .get(key: other, r: nil, format: .json))
        #expect(gone.status == .notFound)
        #expect(gone.headers["X-Cairn-Context"].count == 1)
    }

    @Test func theSiblingCapIsA409() async {
        let service = InMemoryKeyValueService(siblingLimit: 2)
        let key = Array("s".utf8)
        for _ in 0..<2 {
            #expect(await service.respond(to: .put(key: key, value: [1], ttlSeconds: nil, supersedes: .nothing, w: nil)).status == .ok)
        }
        let refused = await service.respond(to: .put(key: key, value: [1], ttlSeconds: nil, supersedes: .nothing, w: nil))
        #expect(refused.status == .conflict)
    }

    @Test func injectedFailuresAreRendered() async {
        let service = InMemoryKeyValueService()
        await service.failNext("put", with: KeyValueServiceError.quorumUnavailable(required: 2, acknowledged: 1))
        let response = await service.respond(to: .put(key: [1], value: [1], ttlSeconds: nil, supersedes: .current, w: 2))
        #expect(response.status == .serviceUnavailable)
        await service.failNext("metrics", with: CancellationError())
        #expect(await service.respond(to: .metrics).status == .serviceUnavailable)
    }

    @Test func leaveAndRemoveChangeMembershipAndReportTheirFailures() async throws {
        let service = InMemoryKeyValueService(members: [
            .init(node: "n1", address: "127.0.0.1:7080", partitions: 22),
            .init(node: "n2", address: "127.0.0.1:7081", partitions: 21),
            .init(node: "n3", address: "127.0.0.1:7082", reachable: false, partitions: 21),
        ])
        let leave = await service.respond(to: .leave(node: "127.0.0.1:7081"))
        #expect(leave.status == .accepted)
        #expect(try JSONParser.parse(leave.body) == ["ok": true])
        #expect(await service.respond(to: .leave(node: "n2")).status == .conflict)
        #expect(await service.respond(to: .leave(node: nil)).status == .accepted)
        #expect(await service.respond(to: .remove(node: "n1")).status == .conflict)
        let removed = await service.respond(to: .remove(node: "n3"))
        #expect(removed.status == .ok)
        #expect(try JSONParser.parse(removed.body) == ["ok": true])
        let unknown = await service.respond(to: .remove(node: "n9"))
        #expect(unknown.status == .notFound)
        #expect(try JSONParser.parse(unknown.body)["error"]?["code"] == "node_not_found")
        #expect(await service.members.map(\.status) == ["leaving", "leaving", "removed"])
        #expect(await service.calls == ["leave 127.0.0.1:7081", "leave n2", "leave -", "remove n1", "remove n3", "remove n9"])
    }

    @Test func scanPagesThroughKeys() async throws {
        let service = InMemoryKeyValueService()
        for name in ["a1", "a2", "a3", "b1"] {
            _ = await service.respond(to: .put(key: Array(name.utf8), value: [1], ttlSeconds: nil, supersedes: .current, w: nil))
        }
        let first = try JSONParser.parse(await service.respond(to: .scan(prefix: Array("a".utf8), limit: 2, after: nil, values: false)).body)
        #expect(first == ["keys": [["key": "a1"], ["key": "a2"]], "next": "a2"])
        let second = try JSONParser.parse(await service.respond(to: .scan(prefix: Array("a".utf8), limit: 2, after: Array("a2".utf8), values: false)).body)
        #expect(second == ["keys": [["key": "a3"]], "next": nil])
        _ = await service.respond(to: .put(key: Array("b1".utf8), value: [2], ttlSeconds: nil, supersedes: .nothing, w: nil))
        let withValues = try JSONParser.parse(await service.respond(to: .scan(prefix: [], limit: 10, after: Array("a2".utf8), values: true)).body)
        guard case .array(let items)? = withValues["keys"], items.count == 2 else {
            Issue.record("expected a3 and b1 with values: \(withValues)")
            return
        }
        #expect(items[0]["key"] == "a3" && items[0]["value"] == .string("\u{1}") && items[0]["context"] != nil)
        #expect(items[1]["key"] == "b1" && items[1]["siblings"] == [["value": "\u{1}"], ["value": "\u{2}"]])
    }
}
