import CairnCore
import CairnHTTPTestSupport
import Crypto
import NIOCore
import NIOPosix
import Testing

@testable import CairnHTTP

/// The server on a real socket on 127.0.0.1 (port 0), talked to byte by byte.
@Suite struct HTTPServerTests {
    static let limits = APILimits(maxKeyBytes: 64, maxValueBytes: 1024, maxJSONBodyBytes: 2048)

    func withServer(
        service: InMemoryKeyValueService = InMemoryKeyValueService(),
        maxInFlight: Int = HTTPServer.Configuration.defaultMaxInFlight,
        _ body: (HTTPServer, SocketAddress) async throws -> Void
    ) async throws {
        let server = HTTPServer(
            service: service,
            configuration: HTTPServer.Configuration(
                host: "127.0.0.1", port: 0, limits: Self.limits, lingerTimeout: .milliseconds(500), maxInFlight: maxInFlight))
        try await withStarted(server) { server, address in
            #expect(address.port != 0)
            #expect(server.localAddress?.port == address.port)
            try await body(server, address)
        }
    }

    @Test func versionsSiblingsAndResolutionOverOneConnection() async throws {
        try await withServer { _, address in
            try await Conversation.with(address) { client in
                try await client.send(rawRequest("PUT", "/v1/keys/user%2F1", json: #"{"value": "ann"}"#))
                #expect(try await client.response().status == 200)
                try await client.send(rawRequest("GET", "/v1/keys/user%2F1"))
                let first = try await client.response()
                #expect(first.status == 200)
                #expect(try first.json()["value"] == "ann")
                let firstContext = try #require(first.header("X-Cairn-Context"))
                #expect(try first.json()["context"] == .string(firstContext))

                // A blind write is concurrent: two siblings.
                try await client.send(rawRequest("PUT", "/v1/keys/user%2F1?blind=true", json: #"{"value_base64": "/wA="}"#))
                #expect(try await client.response().status == 200)
                try await client.send(rawRequest("GET", "/v1/keys/user%2F1"))
                let siblings = try await client.response()
                #expect(siblings.status == 300)
                let both = try #require(siblings.header("X-Cairn-Context"))
                #expect(try siblings.json() == ["siblings": [["value": "ann"], ["value_base64": "/wA="]], "context": .string(both)])

                // Writing with the context read resolves them.
                try await client.send(rawRequest("PUT", "/v1/keys/user%2F1", headers: [("X-Cairn-Context", both)], json: #"{"value": "bob"}"#))
                #expect(try await client.response().status == 200)
                try await client.send(rawRequest("GET", "/v1/keys/user%2F1", headers: [("Accept", "application/octet-stream")]))
                let resolved = try await client.response()
                #expect(resolved.status == 200)
                #expect(resolved.body == Array("bob".utf8))
                #expect(resolved.header("Content-Type") == "application/octet-stream")

                // Delete with its context, then it reads as absent.
                try await client.send(rawRequest("DELETE", "/v1/keys/user%2F1?w=2", headers: [("X-Cairn-Context", try #require(resolved.header("X-Cairn-Context")))]))
                #expect(try await client.response().status == 200)
                try await client.send(rawRequest("GET", "/v1/keys/user%2F1?r=3"))
                let gone = try await client.response()
                #expect(gone.status == 404)
                #expect(gone.errorCode == "key_not_found")
            }
        }
    }

    @Test func conditionalWritesAnswer412WithTheCurrentContextAndWriteNothing() async throws {
        try await withServer { _, address in
            try await Conversation.with(address) { client in
                // If-None-Match: * creates the key once; the second create is refused.
                try await client.send(rawRequest("PUT", "/v1/keys/lock", headers: [("If-None-Match", "*")], json: #"{"value": "a"}"#))
                let created = try await client.response()
                #expect(created.status == 200)
                let first = try #require(created.header("X-Cairn-Context"))
                try await client.send(rawRequest("PUT", "/v1/keys/lock", headers: [("If-None-Match", "*")], json: #"{"value": "b"}"#))
                let refused = try await client.response()
                #expect(refused.status == 412)
                #expect(refused.errorCode == "precondition_failed")
                #expect(refused.header("X-Cairn-Context") == first, "a 412 carries what the key holds now")

                // If-Match with that context writes (quoted, as an entity tag); then it is stale.
                try await client.send(rawRequest("PUT", "/v1/keys/lock", headers: [("If-Match", "\"\(first)\"")], json: #"{"value": "c"}"#))
                let matched = try await client.response()
                #expect(matched.status == 200)
                let second = try #require(matched.header("X-Cairn-Context"))
                #expect(second != first)
                try await client.send(rawRequest("DELETE", "/v1/keys/lock", headers: [("If-Match", first)]))
                let stale = try await client.response()
                #expect(stale.status == 412)
                #expect(stale.header("X-Cairn-Context") == second)
                try await client.send(rawRequest("GET", "/v1/keys/lock"))
                #expect(try await client.response().json()["value"] == "c", "a refused write leaves the value")

                // If-Match: * on a key that holds nothing is refused, without a context to report.
                try await client.send(rawRequest("DELETE", "/v1/keys/nothing", headers: [("If-Match", "*")]))
                let absent = try await client.response()
                #expect(absent.status == 412)
                #expect(absent.header("X-Cairn-Context") == nil)
                try await client.send(rawRequest("DELETE", "/v1/keys/lock", headers: [("If-Match", "*")]))
                #expect(try await client.response().status == 200)
                try await client.send(rawRequest("GET", "/v1/keys/lock"))
                #expect(try await client.response().status == 404)
            }
        }
    }

    @Test func anOversizeBodyIsA413AndTheNextConnectionIsServed() async throws {
        try await withServer { _, address in
            // Declared too large: refused from the head, connection closed.
            try await Conversation.with(address) { client in
                try await client.send(Array("PUT /v1/keys/k HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: 1025\r\n\r\n".utf8))
                let response = try await client.response()
                #expect(response.status == 413)
                #expect(response.errorCode == "value_too_large")
                #expect(response.header("Connection") == "close")
                #expect(try await client.closesWithoutMore())
            }
            // Sent in full anyway: the client still reads the 413, not a reset.
            try await Conversation.with(address) { client in
                try await client.send(rawRequest("PUT", "/v1/keys/k", json: "\"" + String(repeating: "x", count: 4000) + "\""))
                let response = try await client.response()
                #expect(response.status == 413)
                #expect(response.errorCode == "body_too_large")
            }
            // Chunked past the limit.
            try await Conversation.with(address) { client in
                let chunk = String(repeating: "y", count: 1500)
                try await client.send(Array("PUT /v1/keys/k HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5DC\r\n\(chunk)\r\n5DC\r\n\(chunk)\r\n".utf8))
                #expect(try await client.response().status == 413)
            }
            try await Conversation.with(address) { client in
                try await client.send(rawRequest("GET", "/health"))
                let health = try await client.response()
                #expect(health.status == 200)
                #expect(try health.json()["status"] == "ok")
            }
        }
    }

    @Test func malformedRequestsGetJSONErrorsAndTheConnectionGoesOn() async throws {
        try await withServer { _, address in
            try await Conversation.with(address) { client in
                let requests: [([UInt8], Int, String)] = [
                    (rawRequest("PUT", "/v1/keys/k", json: #"{"value": "#), 400, "invalid_json"),
                    (rawRequest("PUT", "/v1/keys/k", json: #"{"value": "v", "ttl": -1}"#), 400, "invalid_ttl"),
                    (rawRequest("PUT", "/v1/keys/k", headers: [("X-Cairn-Context", "!!")], json: #"{"value": "v"}"#), 400, "invalid_context"),
                    (rawRequest("GET", "/v1/keys/k?q=1"), 400, "unknown_parameter"),
                    (rawRequest("GET", "/v1/keys/k?r=4"), 400, "invalid_parameter"),
                    (rawRequest("GET", "/v1/keys/" + String(repeating: "a", count: 65)), 400, "key_too_long"),
                    (rawRequest("GET", "/v1/keys/%ZZ"), 400, "invalid_uri"),
                    (rawRequest("GET", "/v1/keys/"), 400, "empty_key"),
                    (rawRequest("GET", "/nowhere"), 404, "not_found"),
                    (rawRequest("PATCH", "/v1/keys/k"), 405, "method_not_allowed"),
                ]
                for (request, status, code) in requests {
                    try await client.send(request)
                    let response = try await client.response()
                    #expect(response.status == status, "\(code)")
                    #expect(response.errorCode == code)
                    if status == 405 { #expect(response.header("Allow") == "GET, PUT, DELETE") }
                }
                try await client.send(rawRequest("GET", "/v1/cluster"))
                let cluster = try await client.response()
                #expect(cluster.status == 200)
                #expect(try cluster.json()["ring"]?["n"] == 3)
            }
        }
    }

    @Test func garbageGetsA400AndTheServerStaysUp() async throws {
        try await withServer { _, address in
            try await Conversation.with(address) { client in
                try await client.send(Array("\u{1}\u{2} nonsense\r\n\r\n".utf8))
                let response = try await client.response()
                #expect(response.status == 400)
                #expect(response.errorCode == "bad_request")
                #expect(try await client.closesWithoutMore())
            }
            try await Conversation.with(address) { client in
                try await client.send(Array("GET /health HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "h", count: 200_000))\r\n\r\n".utf8))
                let response = try await client.response()
                #expect(response.status == 431)
                #expect(response.errorCode == "headers_too_large")
            }
            try await Conversation.with(address) { client in
                try await client.send(rawRequest("GET", "/metrics"))
                let metrics = try await client.response()
                #expect(metrics.status == 200)
                #expect(metrics.text.hasPrefix("# TYPE cairn_keys gauge"))
            }
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withServer { _, address in
            try await Conversation.with(address) { client in
                var batch: [UInt8] = []
                for index in 0..<20 {
                    batch += rawRequest("PUT", "/v1/keys/slow\(index)", json: #"{"value": "v\#(index)"}"#)
                    batch += rawRequest("GET", "/v1/keys/slow\(index)")
                }
                batch += rawRequest("GET", "/v1/keys?prefix=slow1&limit=5")
                try await client.send(batch)
                let responses = try await client.responses(41)
                for index in 0..<20 {
                    #expect(responses[2 * index].status == 200)
                    #expect(try responses[2 * index + 1].json()["value"] == .string("v\(index)"))
                }
                let keys = try responses[40].json()["keys"]
                #expect(keys == [["key": "slow1"], ["key": "slow10"], ["key": "slow11"], ["key": "slow12"], ["key": "slow13"]])
                #expect(try responses[40].json()["next"] == "slow13")
            }
        }
    }

    @Test func binaryKeysAndValuesRoundTrip() async throws {
        try await withServer { _, address in
            try await Conversation.with(address) { client in
                let value: [UInt8] = (0...255).map { UInt8($0) }
                try await client.send(rawRequest("PUT", "/v1/keys/%00%FF%20?ttl=30", headers: [("Content-Type", "application/octet-stream")], body: value))
                #expect(try await client.response().status == 200)
                try await client.send(rawRequest("GET", "/v1/keys/%00%FF%20", headers: [("Accept", "application/octet-stream")]))
                #expect(try await client.response().body == value)
                try await client.send(rawRequest("GET", "/v1/keys/%00%FF%20"))
                #expect(try await client.response().json()["value_base64"] == .string(Base64.encode(value, .standard)))
                try await client.send(rawRequest("GET", "/v1/keys?prefix=%00"))
                #expect(try await client.response().json() == ["keys": [["key_base64": "AP8g"]], "next": nil])
            }
        }
    }

    /// The status page: HTML whose policy allows exactly its own inline style and script (a
    /// changed script with a stale hash would not run in a browser), and what it polls.
    @Test func theStatusPageIsSelfContainedAndItsDataEndpointAnswers() async throws {
        try await withServer { _, address in
            try await Conversation.with(address) { client in
                try await client.send(rawRequest("GET", "/ui"))
                let page = try await client.response()
                #expect(page.status == 200)
                #expect(page.header("content-type") == "text/html; charset=utf-8")
                let policy = try #require(page.header("content-security-policy"))
                #expect(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"))
                let html = String(decoding: page.body, as: UTF8.self)
                for (tag, directive) in [("style", "style-src"), ("script", "script-src")] {
                    let inline = try #require(html.firstRange(of: "<\(tag)>").flatMap { start in
                        html[start.upperBound...].firstRange(of: "</\(tag)>").map { html[start.upperBound..<$0.lowerBound] }
                    })
                    let digest = Base64.encode(Array(SHA256.hash(data: Array(inline.utf8))), .standard)
                    #expect(policy.contains("\(directive) 'sha256-\(digest)'"), "\(tag) hash in \(policy)")
                }
                // The SVG namespace is a name, not an address; no other URL is in the page.
                let addresses = html.replacing("http://www.w3.org/2000/svg", with: "")
                #expect(!addresses.contains("http://") && !addresses.contains("https://"), "nothing is fetched from elsewhere")
                try await client.send(rawRequest("GET", "/v1/cluster/partitions"))
                let partitions = try await client.response()
                #expect(partitions.status == 200)
                guard case .array(let list)? = try partitions.json()["partitions"] else {
                    Issue.record("no partitions array")
                    return
                }
                #expect(list.count == 8)
            }
        }
    }

    @Test func stopFinishesTheRequestInProgressThenRefusesConnections() async throws {
        let service = InMemoryKeyValueService(slowReadDelay: .milliseconds(500))
        let server = HTTPServer(
            service: service, configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0, limits: Self.limits))
        let address = try await server.start()
        try await Conversation.with(address) { client in
            try await client.send(rawRequest("GET", "/v1/keys/slowkey"))
            // Stop only once the request is in the service (however loaded the machine is).
            for _ in 0..<500 where await service.calls.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            #expect(await service.calls == ["get r=-"])
            async let stopped: Void = server.stop(gracePeriod: .seconds(5))
            let response = try await client.response()
            #expect(response.status == 404)
            #expect(response.header("Connection") == "close")
            #expect(try await client.closesWithoutMore())
            await stopped
        }
        #expect(server.localAddress == nil)
        await server.stop()
        await #expect(throws: (any Error).self) {
            try await Conversation.with(address) { _ in }
        }
        await #expect(throws: HTTPServer.StateError.self) { try await server.start() }
    }

    @Test func pastTheInFlightCapDataRequestsGet503UntilSlotsFree() async throws {
        let service = InMemoryKeyValueService()
        let cap = 3
        try await withServer(service: service, maxInFlight: cap) { server, address in
            try await Conversation.with(address) { client in
                for key in ["held0", "held1", "held2", "other"] {
                    try await client.send(rawRequest("PUT", "/v1/keys/\(key)", json: #"{"value": "v"}"#))
                    #expect(try await client.response().status == 200)
                }
            }
            try await withThrowingTaskGroup(of: Int.self) { slow in
                // Fill the cap: one read per connection, each held in the service.
                for index in 0..<cap {
                    slow.addTask {
                        try await Conversation.with(address) { client in
                            try await client.send(rawRequest("GET", "/v1/keys/held\(index)"))
                            return try await client.response().status
                        }
                    }
                }
                try await withTimeout {
                    while await service.heldReadsWaiting < cap { try await Task.sleep(for: .milliseconds(5)) }
                }
                #expect(server.requestsInFlight == cap)

                try await Conversation.with(address) { client in
                    // Every data request is refused at once, and the connection stays usable.
                    for request in [
                        rawRequest("GET", "/v1/keys/other"),
                        rawRequest("PUT", "/v1/keys/other", json: #"{"value": "w"}"#),
                        rawRequest("GET", "/v1/keys?prefix=o"),
                    ] {
                        try await client.send(request)
                        let refused = try await client.response()
                        #expect(refused.status == 503)
                        #expect(refused.errorCode == "overloaded")
                        #expect(refused.header("Retry-After") == "1")
                        #expect(refused.header("Connection") == nil)
                        #expect(try refused.json()["error"]?["detail"] == ["limit": 3, "retry_after_seconds": 1])
                    }
                    // Health, metrics and cluster status take no slot.
                    for path in ["/health", "/metrics", "/v1/cluster"] {
                        try await client.send(rawRequest("GET", path))
                        #expect(try await client.response().status == 200, "\(path)")
                    }
                }
                #expect(await service.calls.filter { $0.hasPrefix("put") }.count == 4, "a refused request never reaches the service")
                #expect(server.requestsInFlight == cap)

                await service.releaseHeldReads()
                for try await status in slow { #expect(status == 200) }
            }
            // A slot is free once its response is written, which may trail the client's read.
            try await withTimeout {
                while server.requestsInFlight > 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            try await Conversation.with(address) { client in
                try await client.send(rawRequest("GET", "/v1/keys/other"))
                let served = try await client.response()
                #expect(served.status == 200)
                #expect(try served.json()["value"] == "v")
            }
        }
    }

    @Test func aClosedConnectionGivesItsSlotBackWhenTheServiceReturns() async throws {
        let service = InMemoryKeyValueService()
        try await withServer(service: service, maxInFlight: 1) { server, address in
            try await Conversation.with(address) { client in
                try await client.send(rawRequest("GET", "/v1/keys/held"))
                try await withTimeout {
                    while await service.heldReadsWaiting < 1 { try await Task.sleep(for: .milliseconds(5)) }
                }
            }
            // The client is gone; its request still holds the slot until the service returns.
            #expect(server.requestsInFlight == 1)
            await service.releaseHeldReads()
            try await withTimeout {
                while server.requestsInFlight > 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            try await Conversation.with(address) { client in
                try await client.send(rawRequest("GET", "/v1/keys/held"))
                #expect(try await client.response().status == 404)
            }
        }
    }
}
