import CairnCore
import CairnHTTP
import CairnHTTPTestSupport
import Testing

@testable import CairnClient

/// The client against a real `HTTPServer` on loopback, serving the in-memory double.
@Suite struct CairnClientTests {
    @Test func siblingsAppearAndAWriteWithTheirContextResolvesThem() async throws {
        try await withNode { client, _ in
            let key = "user/1".bytes
            try await client.put(key: key, value: "ann".bytes)
            let first = try await client.get(key: key)
            #expect(first.siblings == ["ann".bytes])
            #expect(first.value == "ann".bytes)
            #expect(first.context != nil)

            // A blind write supersedes nothing: two siblings, one context.
            try await client.put(key: key, value: "bob".bytes, blind: true)
            let both = try await client.get(key: key)
            #expect(Set(both.siblings) == ["ann".bytes, "bob".bytes])
            #expect(both.value == nil)
            let context = try #require(both.context)

            try await client.put(key: key, value: "cy".bytes, context: context)
            let resolved = try await client.get(key: key, r: 2)
            #expect(resolved.siblings == ["cy".bytes])
        }
    }

    @Test func deleteWithTheContextReadLeavesTheKeyAbsent() async throws {
        try await withNode { client, service in
            let never = try await client.get(key: "never".bytes)
            #expect(never.isAbsent)
            #expect(never.context == nil)

            try await client.put(key: "k".bytes, value: "v".bytes, w: 3)
            let read = try await client.get(key: "k".bytes)
            try await client.delete(key: "k".bytes, context: read.context, w: 2)
            let gone = try await client.get(key: "k".bytes)
            #expect(gone.isAbsent)
            // The tombstone's history comes back, so a later write can supersede it.
            #expect(gone.context != nil)
            #expect(await service.calls.contains("put ttl=- w=3"))
            #expect(await service.calls.contains("delete w=2"))
        }
    }

    @Test func aTTLTravelsAndTheValueExpires() async throws {
        try await withNode { client, service in
            try await client.put(key: "t".bytes, value: "v".bytes, ttlSeconds: 10)
            #expect(await service.calls.last == "put ttl=10 w=-")
            #expect(try await client.get(key: "t".bytes).value == "v".bytes)
            await service.advance(milliseconds: 10_000)
            #expect(try await client.get(key: "t".bytes).isAbsent)
        }
    }

    @Test func binaryKeysAndValuesRoundTripAsOneValueAndAsSiblings() async throws {
        try await withNode { client, _ in
            let key: [UInt8] = [0, 0xFF, UInt8(ascii: "/"), UInt8(ascii: " "), UInt8(ascii: "%"), UInt8(ascii: "+")]
            let value = (0...255).map(UInt8.init)
            try await client.put(key: key, value: value)
            #expect(try await client.get(key: key).siblings == [value])
            let invalidUTF8: [UInt8] = [0xC3, 0x28]
            try await client.put(key: key, value: invalidUTF8, blind: true)
            let siblings = try await client.get(key: key)
            #expect(Set(siblings.siblings) == [value, invalidUTF8])
            let empty: [UInt8] = []
            try await client.put(key: [1], value: empty)
            #expect(try await client.get(key: [1]).siblings == [empty])
        }
    }

    @Test func scanPagesThroughKeysInByteOrder() async throws {
        try await withNode { client, _ in
            for key in ["a/1", "a/2", "a/3", "b/1"] { try await client.put(key: key.bytes, value: [1]) }
            try await client.put(key: [UInt8(ascii: "a"), UInt8(ascii: "/"), 0xFF], value: [1])
            let first = try await client.scan(prefix: "a/".bytes, limit: 2)
            #expect(first.keys == ["a/1".bytes, "a/2".bytes])
            let next = try #require(first.next)
            let second = try await client.scan(prefix: "a/".bytes, limit: 2, after: next)
            #expect(second.keys == ["a/3".bytes, [UInt8(ascii: "a"), UInt8(ascii: "/"), 0xFF]])
            #expect(second.next == nil)
            #expect(try await client.scan().keys.count == 5)
        }
    }

    @Test func casAppliesFailsWithTheCurrentValueAndDeletes() async throws {
        try await withNode(InMemoryKeyValueService()) { client, _ async throws in
            #expect(try await client.cas(key: "lock".bytes, expected: nil, new: "owner-1".bytes) == .applied)
            #expect(try await client.cas(key: "lock".bytes, expected: nil, new: "owner-2".bytes) == .failed(current: "owner-1".bytes))
            #expect(try await client.cas(key: "lock".bytes, expected: "owner-1".bytes, new: [0xFF]) == .applied)
            #expect(try await client.cas(key: "lock".bytes, expected: [0xFE], new: nil) == .failed(current: [0xFF]))
            #expect(try await client.cas(key: "lock".bytes, expected: [0xFF], new: nil) == .applied)
            #expect(try await client.get(key: "lock".bytes).isAbsent)
        }
    }

    @Test func anOversizeValueIsA413AndTheClientCarriesOn() async throws {
        try await withNode { client, _ in
            let error = await #expect(throws: CairnClientError.self) {
                try await client.put(key: "big".bytes, value: Array(repeating: 7, count: testLimits.maxValueBytes + 1))
            }
            guard case .http(413, "value_too_large", _)? = error else {
                Issue.record("expected a 413 value_too_large, got \(String(describing: error))")
                return
            }
            // Far larger: the server answers from the head and drains the body it refuses, so
            // the client still reads the 413 rather than a reset.
            let large = await #expect(throws: CairnClientError.self) {
                try await client.put(key: "big".bytes, value: Array(repeating: 7, count: 512 << 10))
            }
            guard case .http(413, "value_too_large", _)? = large else {
                Issue.record("expected a 413 value_too_large, got \(String(describing: large))")
                return
            }
            // The server closed that connection; the next request opens another.
            try await client.put(key: "small".bytes, value: Array(repeating: 7, count: testLimits.maxValueBytes))
            #expect(try await client.get(key: "small".bytes).value?.count == testLimits.maxValueBytes)
        }
    }

    @Test func aContextTheNodeCannotReadIsA400AndOneWithBadCharactersIsNotSent() async throws {
        try await withNode { client, service in
            let error = await #expect(throws: CairnClientError.self) {
                try await client.put(key: "k".bytes, value: [1], context: "AAAA")
            }
            guard case .http(400, "invalid_context", _)? = error else {
                Issue.record("expected a 400 invalid_context, got \(String(describing: error))")
                return
            }
            let callsBefore = await service.calls.count
            await #expect(throws: CairnClientError.self) {
                try await client.delete(key: "k".bytes, context: "a b\r\nX-Evil: 1")
            }
            await #expect(throws: CairnClientError.self) {
                try await client.put(key: "k".bytes, value: [1], context: "")
            }
            #expect(await service.calls.count == callsBefore)
        }
    }

    @Test func serviceFailuresArriveWithTheirCodeAndMessage() async throws {
        try await withNode { client, service in
            await service.failNext("put", with: KeyValueServiceError.quorumUnavailable(required: 2, acknowledged: 1))
            await #expect(throws: CairnClientError.http(status: 503, code: "quorum_unavailable", message: "1 of 2 required replicas answered")) {
                try await client.put(key: "k".bytes, value: [1], w: 2)
            }
            // An r above N is the server's 400, named.
            let error = await #expect(throws: CairnClientError.self) { try await client.get(key: "k".bytes, r: 9) }
            guard case .http(400, "invalid_parameter", let message)? = error else {
                Issue.record("expected invalid_parameter, got \(String(describing: error))")
                return
            }
            #expect(message.contains("r must be"))
        }
    }

    @Test func aClosedPortIsUnreachableWithTheReason() async throws {
        let port = try await closedPort()
        let client = try CairnClient(node: "127.0.0.1:\(port)", timeout: .seconds(5))
        let error = await #expect(throws: CairnClientError.self) { try await client.get(key: "k".bytes) }
        #expect(error == .unreachable(node: "127.0.0.1:\(port)", reason: "connection refused"))
        #expect(error?.description == "cannot reach node 127.0.0.1:\(port): connection refused")
    }

    @Test func aNodeThatDoesNotAnswerInTimeIsATimeoutAndTheNextRequestWorks() async throws {
        let service = InMemoryKeyValueService(slowReadDelay: .seconds(10))
        // Long enough that the fast requests after it fit even on a loaded machine.
        try await withNode(service, timeout: .seconds(2)) { client, _ in
            let started = ContinuousClock.now
            await #expect(throws: CairnClientError.timedOut(node: client.node, after: .seconds(2))) {
                try await client.get(key: "slow-key".bytes)
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .seconds(2))
            #expect(elapsed < .seconds(8))
            // The timed-out connection was closed, not put back to deliver a late answer.
            #expect(client.idleLocalPorts.isEmpty)
            try await client.put(key: "fast".bytes, value: [1])
            #expect(try await client.get(key: "fast".bytes).value == [1])
        }
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        try await withNode { client, _ in
            try await client.put(key: "k".bytes, value: [1])
            let ports = client.idleLocalPorts
            #expect(ports.count == 1)
            for _ in 0..<5 { _ = try await client.get(key: "k".bytes) }
            #expect(client.idleLocalPorts == ports)
        }
    }

    @Test func concurrentRequestsUseSeparateConnectionsAndAllSucceed() async throws {
        try await withNode { client, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask { try await client.put(key: "c\(index)".bytes, value: [UInt8(index)]) }
                }
                try await group.waitForAll()
            }
            for index in 0..<8 { #expect(try await client.get(key: "c\(index)".bytes).value == [UInt8(index)]) }
            #expect(client.idleLocalPorts.count <= 4)
        }
    }

    @Test func clusterStatusHealthLeaveAndRemove() async throws {
        let service = InMemoryKeyValueService(
            members: [
                .init(node: "n1", address: "127.0.0.1:7080", partitions: 22),
                .init(node: "n2", address: "127.0.0.1:7081", partitions: 21),
                .init(node: "n3", address: "127.0.0.1:7082", reachable: false, partitions: 21),
            ],
            transfers: [["partition": 5, "from": "n1", "to": "n2", "state": "sending"]])
        try await withNode(service) { client, service in
            let status = try await client.clusterStatus()
            #expect(status.node == "n1")
            #expect(status.members.map(\.node) == ["n1", "n2", "n3"])
            #expect(status.members.map(\.reachable) == [true, true, false])
            #expect(status.members.map(\.partitions) == [22, 21, 21])
            #expect(status.ring["n"] == 3)
            #expect(status.transfers.count == 1)
            #expect(try JSONParser.parse(status.raw) == status.json)

            let health = try await client.health()
            #expect(health.isHealthy)

            try await client.leave()
            try await client.leave(node: "127.0.0.1:7081")
            try await client.remove(node: "n3")
            #expect(await service.members.map(\.status) == ["leaving", "leaving", "removed"])
            await #expect(throws: CairnClientError.http(status: 404, code: "node_not_found", message: "no member has the id or address n9")) {
                try await client.remove(node: "n9")
            }
            let error = await #expect(throws: CairnClientError.self) { try await client.remove(node: "n1") }
            guard case .http(409, "membership_conflict", _)? = error else {
                Issue.record("expected a 409, got \(String(describing: error))")
                return
            }

            // Steering handoff: the double keeps the settings; it sends no transfer to cancel.
            #expect(try await client.pauseTransfers().paused)
            let throttled = try await client.throttleTransfers(bytesPerSecond: 8_192)
            #expect(throttled.paused && throttled.bytesPerSecond == 8_192)
            #expect(try await client.resumeTransfers().paused == false)
            await #expect(throws: CairnClientError.http(status: 404, code: "transfer_not_found", message: "this node sends no transfer of partition 3")) {
                try await client.cancelTransfers(partition: 3)
            }
        }
    }
}
