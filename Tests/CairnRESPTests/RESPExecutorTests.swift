import CairnCore
import CairnHTTP
import CairnHTTPTestSupport
import Testing

@testable import CairnRESP

/// Redis commands carried out against the in-memory service: what each answers and what it
/// leaves in the store.
@Suite struct RESPExecutorTests {
    final class Fixture: Sendable {
        let service: InMemoryKeyValueService
        let executor: RESPExecutor

        init(service: InMemoryKeyValueService = InMemoryKeyValueService(), cursors: Int = 16, maxReplyBytes: Int? = nil) {
            self.service = service
            self.executor = RESPExecutor(
                service: service,
                limits: RESPLimits(api: APILimits(maxScanLimit: 50, defaultScanLimit: 10), maxReplyBytes: maxReplyBytes),
                server: RESPServerState(maxConnections: 4, cursors: RESPScanCursors(capacity: cursors)), address: "127.0.0.1:6379")
        }

        /// Parses and carries out one command as a connection would.
        func run(_ words: String...) async -> RESPValue {
            await run(words.map { Array($0.utf8) })
        }

        func run(_ arguments: [[UInt8]]) async -> RESPValue {
            do {
                let command = try RESPCommand.parse(arguments, limits: executor.limits)
                var session = RESPSession(id: 1, peer: "127.0.0.1:5000")
                if command.isConnectionCommand { return executor.answer(command, session: &session).0 }
                return await executor.execute(command, session: session)
            } catch {
                return .error(error)
            }
        }
    }

    static func bulk(_ text: String) -> RESPValue { .bulk(text) }

    @Test func setGetDelExistsType() async {
        let f = Fixture()
        #expect(await f.run("GET", "k") == .null)
        #expect(await f.run("TYPE", "k") == .simpleString("none"))
        #expect(await f.run("SET", "k", "v1") == .ok)
        #expect(await f.run("GET", "k") == Self.bulk("v1"))
        #expect(await f.run("SET", "k", "v2") == .ok)
        #expect(await f.run("GET", "k") == Self.bulk("v2"))
        #expect(await f.run("TYPE", "k") == .simpleString("string"))
        #expect(await f.run("EXISTS", "k", "k", "nope") == .integer(2))
        #expect(await f.run("DEL", "k", "k", "nope") == .integer(1))
        #expect(await f.run("GET", "k") == .null)
        #expect(await f.run("DEL", "k") == .integer(0))
        // A plain SET is a plain write (it reads first), a DEL a context write of what it read.
        #expect(await f.service.calls.filter { $0.hasPrefix("put") }.allSatisfy { $0 == "put ttl=- w=-" })
    }

    @Test func setWithGetAndKeepTTL() async {
        let f = Fixture()
        #expect(await f.run("SET", "k", "a", "GET") == .null)
        #expect(await f.run("SET", "k", "b", "EX", "100", "GET") == Self.bulk("a"))
        await f.service.advance(milliseconds: 40_000)
        #expect(await f.run("SET", "k", "c", "KEEPTTL") == .ok)
        #expect(await f.run("PTTL", "k") == .integer(60_000))
        #expect(await f.run("SET", "k", "d") == .ok)
        #expect(await f.run("TTL", "k") == .integer(-1))
    }

    @Test func ttlExpirePersist() async {
        let f = Fixture()
        #expect(await f.run("TTL", "k") == .integer(-2))
        #expect(await f.run("EXPIRE", "k", "10") == .integer(0))
        #expect(await f.run("SET", "k", "v", "PX", "2500") == .ok)
        #expect(await f.run("PTTL", "k") == .integer(2500))
        #expect(await f.run("TTL", "k") == .integer(3))  // rounded, as Redis does
        await f.service.advance(milliseconds: 1_000)
        #expect(await f.run("TTL", "k") == .integer(2))
        #expect(await f.run("EXPIRE", "k", "100") == .integer(1))
        #expect(await f.run("TTL", "k") == .integer(100))
        #expect(await f.run("GET", "k") == Self.bulk("v"))
        #expect(await f.run("PERSIST", "k") == .integer(1))
        #expect(await f.run("PERSIST", "k") == .integer(0))
        #expect(await f.run("TTL", "k") == .integer(-1))
        #expect(await f.run("PEXPIRE", "k", "20") == .integer(1))
        await f.service.advance(milliseconds: 20)
        #expect(await f.run("GET", "k") == .null)
        #expect(await f.run("TTL", "k") == .integer(-2))
        // EXPIRE with a time not in the future deletes.
        #expect(await f.run("SET", "k", "v") == .ok)
        #expect(await f.run("EXPIRE", "k", "0") == .integer(1))
        #expect(await f.run("EXISTS", "k") == .integer(0))
        // The rewrite is conditional on the read (If-Match), never a blind overwrite.
        #expect(await f.service.calls.contains("get r=-"))
    }

    @Test func nxAndXxGoThroughCompareAndSet() async {
        let f = Fixture()
        #expect(await f.run("SET", "k", "v1", "XX") == .null)
        #expect(await f.run("GET", "k") == .null)
        #expect(await f.run("SET", "k", "v1", "NX") == .ok)
        #expect(await f.run("SET", "k", "v2", "NX") == .null)
        #expect(await f.run("SET", "k", "v2", "NX", "GET") == Self.bulk("v1"))
        #expect(await f.run("SETNX", "k", "v2") == .null)
        #expect(await f.run("SET", "k", "v3", "XX", "GET") == Self.bulk("v1"))
        #expect(await f.run("GET", "k") == Self.bulk("v3"))
        let calls = await f.service.calls
        #expect(calls.contains("cas"))
        #expect(calls.contains("serialGet"))
        #expect(!calls.contains { $0.hasPrefix("put") })
    }

    @Test func siblingsShowTheLastAndResolveWithTheirContext() async throws {
        let f = Fixture()
        #expect(await f.run("SET", "k", "a") == .ok)
        // A blind write (the empty context) adds a sibling.
        guard case .bulk = await f.run("CAIRN.PUT", "k", "b", "") else { Issue.record("CAIRN.PUT failed"); return }
        let all = await f.run("CAIRN.GETALL", "k")
        guard case .array(let parts) = all, parts.count == 2, case .bulk(let token) = parts[1] else {
            Issue.record("unexpected \(all)")
            return
        }
        #expect(parts[0] == .bulks([Array("a".utf8), Array("b".utf8)]))
        // GET shows one sibling: the last in the object's order.
        #expect(await f.run("GET", "k") == Self.bulk("b"))
        #expect(await f.run("MGET", "k", "none") == .array([Self.bulk("b"), .null]))
        #expect(await f.run("EXPIRE", "k", "5") == .error(RESPExecutor.siblingsError(count: 2)))
        #expect(await f.run("SET", "k", "c", "XX") == .error(RESPExecutor.siblingsError(count: 2)))
        // Writing with the context resolves them.
        guard case .bulk = await f.run("CAIRN.PUT", "k", "resolved", String(decoding: token, as: UTF8.self), "PX", "900") else {
            Issue.record("CAIRN.PUT with the context failed")
            return
        }
        #expect(await f.run("CAIRN.GETALL", "k") != all)
        guard case .array(let after) = await f.run("CAIRN.GETALL", "k") else { return }
        #expect(after[0] == .bulks([Array("resolved".utf8)]))
        #expect(await f.run("PTTL", "k") == .integer(900))
        // CAIRN.DEL with the context deletes what it covers.
        guard case .bulk(let latest) = after[1] else { return }
        guard case .bulk = await f.run("CAIRN.DEL", "k", String(decoding: latest, as: UTF8.self)) else { return }
        #expect(await f.run("EXISTS", "k") == .integer(0))
    }

    @Test func cairnCompareAndSet() async {
        let f = Fixture()
        #expect(await f.run("CAIRN.CAS", "k", "a", "b") == .array([Self.bulk("failed"), .null]))
        #expect(await f.run("CAIRN.CASNX", "k", "a") == .array([Self.bulk("applied")]))
        #expect(await f.run("CAIRN.CASNX", "k", "z") == .array([Self.bulk("failed"), Self.bulk("a")]))
        #expect(await f.run("CAIRN.CAS", "k", "a", "b") == .array([Self.bulk("applied")]))
        #expect(await f.run("GET", "k") == Self.bulk("b"))
        #expect(await f.run("CAIRN.CASDEL", "k", "b") == .array([Self.bulk("applied")]))
        #expect(await f.run("GET", "k") == .null)
        #expect(await f.run("CAIRN.GETALL", "k", "SERIAL") == .array([.array([]), Self.bulk(APIResponse.contextToken(CausalContext()))]))
    }

    @Test func msetKeepsTheLastValueOfAKeyNamedTwice() async {
        let f = Fixture()
        #expect(await f.run("MSET", "a", "1", "b", "2", "a", "3") == .ok)
        #expect(await f.run("MGET", "a", "b") == .array([Self.bulk("3"), Self.bulk("2")]))
        #expect(await f.run("CAIRN.GETALL", "a") != .null)
        guard case .array(let parts) = await f.run("CAIRN.GETALL", "a") else { return }
        #expect(parts[0] == .bulks([Array("3".utf8)]))
    }

    @Test func mgetRefusesAnAnswerOverItsLimit() async {
        let f = Fixture(maxReplyBytes: 10)
        #expect(await f.run("MSET", "a", "123456", "b", "123456") == .ok)
        #expect(await f.run("MGET", "a") == .array([Self.bulk("123456")]))
        #expect(await f.run("MGET", "a", "b") == .error(RESPError(
            "the values add up to more than the answer limit of 10 bytes; ask for fewer keys")))
    }

    @Test func scanPagesThroughPrefixesWithNumericCursors() async {
        let f = Fixture()
        for index in 0..<25 { _ = await f.run("SET", "user:\(index < 10 ? "0" : "")\(index)", "v") }
        _ = await f.run("SET", "other", "v")
        var cursor = "0"
        var keys: [String] = []
        var pages = 0
        repeat {
            guard case .array(let reply) = await f.run("SCAN", cursor, "MATCH", "user:*", "COUNT", "7"),
                  case .bulk(let next) = reply[0], case .array(let page) = reply[1] else {
                Issue.record("unexpected SCAN answer")
                return
            }
            #expect(page.count <= 7)
            keys += page.compactMap { if case .bulk(let key) = $0 { String(decoding: key, as: UTF8.self) } else { nil } }
            cursor = String(decoding: next, as: UTF8.self)
            #expect(UInt64(cursor) != nil)
            pages += 1
        } while cursor != "0" && pages < 10
        #expect(keys == (0..<25).map { "user:\($0 < 10 ? "0" : "")\($0)" })
        #expect(await f.run("SCAN", "0", "MATCH", "other") == RESPExecutor.scanPage(cursor: 0, keys: [Array("other".utf8)]))
        #expect(await f.run("SCAN", "0", "MATCH", "missing") == RESPExecutor.scanPage(cursor: 0, keys: []))
        #expect(await f.run("SCAN", "0", "TYPE", "hash") == RESPExecutor.scanPage(cursor: 0, keys: []))
        #expect(await f.run("SCAN", "12345") == .error(RESPError(
            "invalid cursor: unknown, or forgotten after 16 newer ones; start again from 0")))
    }

    @Test func serviceFailuresBecomeTheirOwnCodes() async {
        let f = Fixture()
        await f.service.failNext("get", with: KeyValueServiceError.quorumUnavailable(required: 2, acknowledged: 1))
        #expect(await f.run("GET", "k") == .error(RESPError(code: .noQuorum, "1 of 2 required replicas answered")))
        await f.service.failNext("cas", with: KeyValueServiceError(.outcomeUnknown, "may have been applied"))
        #expect(await f.run("SET", "k", "v", "NX") == .error(RESPError(code: .unknown, "may have been applied")))
        struct Secret: Error {}
        await f.service.failNext("get", with: Secret())
        #expect(await f.run("GET", "k") == .error(RESPError("the node failed to serve the command (Secret)")))
        // A key compare-and-set manages: a plain SET or DEL goes through a forced CAS instead.
        await f.service.failNext("put", with: KeyValueServiceError(.casManaged, "managed"))
        #expect(await f.run("SET", "k", "v") == .ok)
        #expect(await f.service.calls.last == "casWrite")
        await f.service.failNext("put", with: KeyValueServiceError(.casManaged, "managed"))
        #expect(await f.run("SET", "k", "v", "EX", "5").errorCode == .casManaged)
        await f.service.failNext("delete", with: KeyValueServiceError(.casManaged, "managed"))
        #expect(await f.run("DEL", "k") == .integer(1))
        #expect(await f.service.calls.last == "casWrite")
    }

    @Test func connectionCommands() async {
        let f = Fixture()
        var session = RESPSession(id: 9, peer: "127.0.0.1:5000")
        func answer(_ words: String...) -> RESPValue {
            do {
                return f.executor.answer(try RESPCommand.parse(words.map { Array($0.utf8) }, limits: f.executor.limits), session: &session).0
            } catch {
                return .error(error)
            }
        }
        #expect(answer("PING") == .simpleString("PONG"))
        #expect(answer("ECHO", "x") == Self.bulk("x"))
        #expect(answer("CLIENT", "GETNAME") == .null)
        #expect(answer("CLIENT", "SETNAME", "app") == .ok)
        #expect(answer("CLIENT", "GETNAME") == Self.bulk("app"))
        #expect(answer("CLIENT", "ID") == .integer(9))
        #expect(answer("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == .ok)
        #expect(answer("COMMAND", "COUNT") == .integer(Int64(RESPCommandTable.entries.count)))
        #expect(answer("CONFIG", "GET", "save") == .map([]))
        #expect(session.version == .resp2)
        guard case .map(let hello) = answer("HELLO", "3") else { Issue.record("HELLO is no map"); return }
        #expect(session.version == .resp3)
        #expect(hello.contains { $0.0 == Self.bulk("proto") && $0.1 == .integer(3) })
        #expect(f.executor.answer(.quit, session: &session).1 == .close)
    }

    @Test func infoHasCairnsSections() async {
        let f = Fixture()
        guard case .bulk(let bytes) = await f.run("INFO") else { Issue.record("INFO is no bulk string"); return }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in ["# Server", "redis_version:7.0.0", "# Clients", "# Replication", "role:master", "cairn_replicas_per_key:3",
                     "# Cluster", "cluster_enabled:0", "cairn_members:1", "cairn_members_valid:1"] {
            #expect(text.contains(line + "\r\n"), "\(line)")
        }
        guard case .bulk(let only) = await f.run("INFO", "clients") else { return }
        #expect(String(decoding: only, as: UTF8.self) == "# Clients\r\nconnected_clients:0\r\nmaxclients:4\r\n")
        // The cluster section alone needs the status, the clients section alone does not.
        #expect(await f.service.calls == ["cluster"])
    }
}

extension RESPValue {
    var errorCode: RESPError.Code? {
        if case .error(let error) = self { return error.code }
        return nil
    }
}
