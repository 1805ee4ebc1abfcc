import CairnCore
@testable import CairnTransport
import CairnWire
import Logging
import NIOCore
import NIOPosix
import Testing

@Suite("Transport over loopback sockets")
struct TransportTests {
    let a = WireSamples.a
    let b = WireSamples.b

    @Test("a request gets its answer; the outgoing socket is bound to the node's own listen host")
    func requestResponse() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            let server = try await TestNode.start(host: "127.0.0.2", node: b, group: group, logger: log.logger)
            let client = try await TestNode.start(host: "127.0.0.3", node: a, group: group, logger: log.logger)
            let answer = try await client.pool.request(.read(ReadRequest(key: [1, 2, 3], partition: 0)), to: server.server.listenAddress)
            #expect(readValue(answer) == [1, 2, 3])
            let peer = try client.pool.peer(server.server.listenAddress)
            let local = try #require(await peer.connectionLocalAddress())
            #expect(local.ipAddress == "127.0.0.3")
            #expect(await peer.connectedPeer()?.node == b)
            #expect(server.handler.peers.withLockedValue { $0.first?.listenAddress } == client.server.listenAddress)
            // One-way messages arrive too.
            try await client.pool.send(.membership(.heartbeat(WireSamples.envelope, sequence: 9)), to: server.server.listenAddress)
            for _ in 0..<200 where server.handler.oneWays.withLockedValue({ $0.isEmpty }) {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(server.handler.oneWays.withLockedValue { $0 } == [.membership(.heartbeat(WireSamples.envelope, sequence: 9))])
            await client.shutdown()
            await server.shutdown()
        }
    }

    @Test("many concurrent requests share one connection and each gets its own answer")
    func multiplexed() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            let server = try await TestNode.start(host: "127.0.0.2", node: b, group: group, logger: log.logger)
            let client = try await TestNode.start(host: "127.0.0.1", node: a, group: group, logger: log.logger)
            let address = server.server.listenAddress
            let results = try await withThrowingTaskGroup(of: (Int, [UInt8]?).self) { tasks in
                for i in 0..<300 {
                    tasks.addTask {
                        let key = Array("key-\(i)".utf8)
                        return (i, readValue(try await client.pool.request(.read(ReadRequest(key: key, partition: i % 64)), to: address)))
                    }
                }
                var results: [Int: [UInt8]?] = [:]
                for try await (i, value) in tasks { results[i] = value }
                return results
            }
            #expect(results.count == 300)
            for (i, value) in results { #expect(value == Array("key-\(i)".utf8)) }
            #expect(server.server.connectionCount == 1)
            await client.shutdown()
            await server.shutdown()
        }
    }

    @Test("one request times out while the others on the same connection succeed")
    func perRequestTimeout() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            let server = try await TestNode.start(host: "127.0.0.2", node: b, group: group, logger: log.logger)
            let client = try await TestNode.start(host: "127.0.0.1", node: a, group: group, logger: log.logger)
            let address = server.server.listenAddress
            let started = ContinuousClock.now
            async let stuck = transportError {
                _ = try await client.pool.request(.read(ReadRequest(key: TestHandler.neverKey, partition: 0)), to: address, timeout: .milliseconds(300))
            }
            var answered = 0
            for i in 0..<20 {
                let answer = try await client.pool.request(.read(ReadRequest(key: [UInt8(i), 1], partition: 0)), to: address, timeout: .seconds(5))
                if readValue(answer) == [UInt8(i), 1] { answered += 1 }
            }
            let error = await stuck
            #expect(answered == 20)
            #expect(error?.code == .timedOut)
            #expect(ContinuousClock.now - started < .seconds(5))
            // The connection survived the timeout.
            #expect(readValue(try await client.pool.request(.read(ReadRequest(key: [42], partition: 0)), to: address)) == [42])
            // When the connection closes, the server cancels the handler still working on it.
            await client.shutdown()
            for _ in 0..<200 where server.handler.cancelled.withLockedValue({ $0 }) == 0 {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(server.handler.cancelled.withLockedValue { $0 } == 1)
            await server.shutdown()
        }
    }

    @Test("past the outstanding bound a request fails at once with overloaded")
    func overloaded() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            let settings = WireSettings(maxOutstandingRequests: 4)
            let server = try await TestNode.start(host: "127.0.0.2", node: b, group: group, logger: log.logger)
            let client = try await TestNode.start(host: "127.0.0.1", node: a, settings: settings, group: group, logger: log.logger)
            let address = server.server.listenAddress
            try await withThrowingTaskGroup(of: TransportError?.self) { tasks in
                for _ in 0..<4 {
                    tasks.addTask {
                        await transportError {
                            _ = try await client.pool.request(.read(ReadRequest(key: TestHandler.neverKey, partition: 0)), to: address, timeout: .seconds(2))
                        }
                    }
                }
                // Wait until all four are outstanding.
                let peer = try client.pool.peer(address)
                for _ in 0..<200 {
                    let count = try await peer.eventLoop.submit { peer.pending.count }.get()
                    if count == 4 { break }
                    try await Task.sleep(for: .milliseconds(5))
                }
                let started = ContinuousClock.now
                let error = await transportError {
                    _ = try await client.pool.request(.read(ReadRequest(key: [1], partition: 0)), to: address, timeout: .seconds(2))
                }
                #expect(error?.code == .overloaded)
                #expect(ContinuousClock.now - started < .milliseconds(500))
                for try await stuck in tasks { #expect(stuck?.code == .timedOut) }
            }
            // Once they timed out, requests flow again.
            #expect(readValue(try await client.pool.request(.read(ReadRequest(key: [5], partition: 0)), to: address)) == [5])
            await client.shutdown()
            await server.shutdown()
        }
    }

    @Test("an answer too large for a frame comes back as a tooLarge error, and the connection stays")
    func answerTooLarge() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            let small = WireSettings(limits: WireLimits(maxFrameBytes: 1 << 20), maxQueuedBytes: 4 << 20)
            let server = try await TestNode.start(host: "127.0.0.2", node: b, settings: small, group: group, logger: log.logger)
            let client = try await TestNode.start(host: "127.0.0.1", node: a, settings: small, group: group, logger: log.logger)
            let address = server.server.listenAddress
            let error = await transportError {
                _ = try await client.pool.request(.read(ReadRequest(key: TestHandler.bigKey, partition: 0)), to: address)
            }
            #expect(error?.code == .remote)
            #expect(error?.remote?.code == .tooLarge)
            #expect(readValue(try await client.pool.request(.read(ReadRequest(key: [8], partition: 0)), to: address)) == [8])
            // A request above the limit is refused before it is sent.
            let big = DVVSet<[UInt8]>.new([UInt8](repeating: 1, count: 2 << 20), by: WireSamples.actorA)
            let local = await transportError {
                _ = try await client.pool.request(.replicate(Replicate(key: [1], partition: 0, object: big)), to: address)
            }
            #expect(local?.code == .tooLarge)
            await client.shutdown()
            await server.shutdown()
        }
    }

    @Test("a frame above the server's limit closes that connection; the server keeps serving others")
    func oversizedFrameClosesConnection() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            let server = try await TestNode.start(
                host: "127.0.0.2", node: b, settings: WireSettings(limits: WireLimits(maxFrameBytes: 1 << 20), maxQueuedBytes: 4 << 20),
                group: group, logger: log.logger)
            // This client allows bigger frames than the server accepts.
            let big = try await TestNode.start(
                host: "127.0.0.1", node: a, settings: WireSettings(limits: WireLimits(maxFrameBytes: 4 << 20), maxQueuedBytes: 16 << 20),
                group: group, logger: log.logger)
            let other = try await TestNode.start(host: "127.0.0.3", node: WireSamples.c, group: group, logger: log.logger)
            let address = server.server.listenAddress
            #expect(readValue(try await other.pool.request(.read(ReadRequest(key: [3], partition: 0)), to: address)) == [3])
            #expect(readValue(try await big.pool.request(.read(ReadRequest(key: [4], partition: 0)), to: address)) == [4])

            let object = DVVSet<[UInt8]>.new([UInt8](repeating: 1, count: 2 << 20), by: WireSamples.actorA)
            let error = await transportError {
                _ = try await big.pool.request(.replicate(Replicate(key: [1], partition: 0, object: object)), to: address)
            }
            #expect(error?.code == .connectionClosed)
            // The other node's connection is untouched, and the big node reconnects.
            #expect(readValue(try await other.pool.request(.read(ReadRequest(key: [5], partition: 0)), to: address)) == [5])
            #expect(readValue(try await big.pool.request(.read(ReadRequest(key: [6], partition: 0)), to: address)) == [6])
            #expect(log.entries.withLockedValue { $0.contains { $0.metadata["cairn.error"]?.contains("tooLarge") == true } })
            await big.shutdown()
            await other.shutdown()
            await server.shutdown()
        }
    }

    @Test("after the peer restarts on the same port, the client reconnects")
    func reconnect() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            let settings = WireSettings(reconnectDelayInitial: .milliseconds(20), reconnectDelayMax: .milliseconds(200))
            var server = try await TestNode.start(host: "127.0.0.2", node: b, group: group, logger: log.logger)
            let client = try await TestNode.start(host: "127.0.0.1", node: a, settings: settings, group: group, logger: log.logger)
            let address = server.server.listenAddress
            let port = try #require(WireAddress(address)?.port)
            #expect(readValue(try await client.pool.request(.read(ReadRequest(key: [1], partition: 0)), to: address)) == [1])
            await server.shutdown()

            let down = await transportError {
                _ = try await client.pool.request(.read(ReadRequest(key: [2], partition: 0)), to: address, timeout: .seconds(1))
            }
            #expect([.connectionClosed, .connectFailed, .unreachable].contains(down?.code))

            server = try await TestNode.start(host: "127.0.0.2", port: port, node: b, group: group, logger: log.logger)
            var answer: WireMessage?
            for _ in 0..<100 where answer == nil {
                answer = try? await client.pool.request(.read(ReadRequest(key: [3], partition: 0)), to: address, timeout: .seconds(1))
                if answer == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(answer.flatMap(readValue) == [3])
            await client.shutdown()
            await server.shutdown()
        }
    }

    @Test("a node of another cluster is refused over sockets, with the reason logged on both sides")
    func wrongClusterOverSockets() async throws {
        let serverLog = LogRecorder()
        let clientLog = LogRecorder()
        try await withGroup { group in
            let server = try await TestNode.start(host: "127.0.0.2", cluster: "alpha", node: b, group: group, logger: serverLog.logger)
            let slowRetry = WireSettings(reconnectDelayInitial: .seconds(10), reconnectDelayMax: .seconds(10))
            let client = try await TestNode.start(
                host: "127.0.0.1", cluster: "beta", node: a, settings: slowRetry, group: group, logger: clientLog.logger)
            let error = await transportError {
                _ = try await client.pool.request(.read(ReadRequest(key: [1], partition: 0)), to: server.server.listenAddress)
            }
            #expect(error?.code == .refused)
            #expect(error?.refusal?.reason == .wrongCluster)
            for _ in 0..<100 where serverLog.refusals().isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            #expect(serverLog.refusals().contains("wrongCluster"))
            #expect(clientLog.refusals().contains("wrongCluster"))
            // The refused client does not retry at once: the next request fails fast.
            let again = await transportError {
                _ = try await client.pool.request(.read(ReadRequest(key: [1], partition: 0)), to: server.server.listenAddress)
            }
            #expect(again?.code == .unreachable)
            await client.shutdown()
            await server.shutdown()
        }
    }

    @Test("with a shared secret the handshake passes and is authenticated; another secret is refused")
    func secretsOverSockets() async throws {
        let log = LogRecorder()
        let secret = ClusterSecret(Array("correct horse battery staple".utf8))
        let wrong = ClusterSecret(Array("incorrect horse battery staple".utf8))
        try await withGroup { group in
            let server = try await TestNode.start(host: "127.0.0.2", node: b, secret: secret, group: group, logger: log.logger)
            let good = try await TestNode.start(host: "127.0.0.1", node: a, secret: secret, group: group, logger: log.logger)
            let bad = try await TestNode.start(host: "127.0.0.3", node: WireSamples.c, secret: wrong, group: group, logger: log.logger)
            let none = try await TestNode.start(host: "127.0.0.4", node: NodeID(high: 4, low: 4), group: group, logger: log.logger)
            let address = server.server.listenAddress
            #expect(readValue(try await good.pool.request(.read(ReadRequest(key: [1], partition: 0)), to: address)) == [1])
            #expect(await (try good.pool.peer(address)).connectedPeer()?.authenticated == true)
            let badError = await transportError {
                _ = try await bad.pool.request(.read(ReadRequest(key: [1], partition: 0)), to: address)
            }
            #expect(badError?.code == .refused)
            #expect(badError?.refusal?.reason == .badProof)
            let noneError = await transportError {
                _ = try await none.pool.request(.read(ReadRequest(key: [1], partition: 0)), to: address)
            }
            #expect(noneError?.refusal?.reason == .secretMismatch)
            for node in [good, bad, none, server] { await node.shutdown() }
        }
    }

    @Test("a hello of another protocol version is answered with a refusal and the connection closed")
    func wrongVersionOverSockets() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            let server = try await TestNode.start(host: "127.0.0.2", node: b, group: group, logger: log.logger)
            let raw = try await RawConnection.open(to: server.server.listenAddress, group: group)
            var hello = Handshake.Message.hello(Handshake.Hello(
                version: Handshake.protocolVersion + 1, clusterName: "alpha", node: a, listenAddress: "127.0.0.1:1",
                nonce: [UInt8](repeating: 1, count: Handshake.nonceBytes), requiresProof: false)).frame()
            hello.requestID = 0
            try await raw.write(hello)
            let frames = try await raw.framesUntilClosed()
            let refusals = frames.compactMap { frame -> Handshake.Refusal? in
                if case .refusal(let refusal) = try? Handshake.Message(frame: frame) { return refusal }
                return nil
            }
            #expect(refusals.map(\.reason) == [.unsupportedVersion])
            #expect(log.refusals().contains("unsupportedVersion"))
            await server.shutdown()
        }
    }

    @Test("an oversized length before the handshake closes the connection at once")
    func oversizedBeforeHandshake() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            let server = try await TestNode.start(host: "127.0.0.2", node: b, group: group, logger: log.logger)
            let raw = try await RawConnection.open(to: server.server.listenAddress, group: group)
            var header = ByteBuffer()
            header.writeInteger(UInt32.max)
            try await raw.writeBytes(header)
            let frames = try await raw.framesUntilClosed()
            // Only the server's hello came before the close; no body was ever waited for.
            #expect(frames.count == 1)
            #expect(frames.first?.kind == .handshake)
            await server.shutdown()
        }
    }

    @Test("bytes queued to a peer are bounded: while connecting, a request past the bound fails at once")
    func queuedBytesBound() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            // A listener that accepts and never speaks: the peer stays in its handshake.
            let silent = try await ServerBootstrap(group: group).bind(host: "127.0.0.2", port: 0).get()
            let address = WireAddress(host: "127.0.0.2", port: silent.localAddress!.port!).description
            let limits = WireLimits(maxFrameBytes: 64 << 10)
            let settings = WireSettings(limits: limits, handshakeTimeout: .seconds(3), maxQueuedBytes: 100 << 10)
            let client = try await TestNode.start(host: "127.0.0.1", node: a, settings: settings, group: group, logger: log.logger)
            let object = DVVSet<[UInt8]>.new([UInt8](repeating: 1, count: 40 << 10), by: WireSamples.actorA)
            let replicate = WireMessage.replicate(Replicate(key: [1], partition: 0, object: object))
            async let first = transportError { _ = try await client.pool.request(replicate, to: address, timeout: .seconds(2)) }
            async let second = transportError { _ = try await client.pool.request(replicate, to: address, timeout: .seconds(2)) }
            let third = await transportError { _ = try await client.pool.request(replicate, to: address, timeout: .seconds(2)) }
            let errors = [await first, await second, third].compactMap { $0?.code }
            // Two fit in 100 KiB; one of the three is refused at once, the others time out.
            #expect(errors.filter { $0 == .overloaded }.count == 1)
            #expect(errors.filter { $0 == .timedOut }.count == 2)
            await client.shutdown()
            try await silent.close()
        }
    }

    @Test("a server connection runs at most its bound of requests at once; the rest wait or are refused")
    func serverConcurrencyBound() async throws {
        let log = LogRecorder()
        try await withGroup { group in
            let server = try await TestNode.start(
                host: "127.0.0.2", node: b, settings: WireSettings(maxConcurrentRequestsPerConnection: 2), group: group, logger: log.logger)
            let client = try await TestNode.start(host: "127.0.0.1", node: a, group: group, logger: log.logger)
            let address = server.server.listenAddress
            let errors = await withTaskGroup(of: TransportError?.self) { tasks in
                for _ in 0..<12 {
                    tasks.addTask {
                        await transportError {
                            _ = try await client.pool.request(.read(ReadRequest(key: TestHandler.neverKey, partition: 0)), to: address, timeout: .seconds(1))
                        }
                    }
                }
                var errors: [TransportError?] = []
                for await error in tasks { errors.append(error) }
                return errors
            }
            #expect(server.handler.running.withLockedValue { $0.peak } == 2)
            // Every request ended with an error: timed out (running, waiting, unread) or refused.
            #expect(errors.allSatisfy { $0?.code == .timedOut || $0?.remote?.code == .overloaded })
            await client.shutdown()
            await server.shutdown()
        }
    }
}
