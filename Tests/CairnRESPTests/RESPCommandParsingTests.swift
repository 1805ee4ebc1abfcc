import CairnCore
import CairnHTTP
import Testing

@testable import CairnRESP

/// Arguments to typed commands, or the error a client is answered: a table of cases.
@Suite struct RESPCommandParsingTests {
    static let limits = RESPLimits(api: APILimits(maxKeyBytes: 8, maxValueBytes: 16, maxTTLSeconds: 1_000), maxKeysPerCommand: 3)

    static func parse(_ words: String...) -> Result<RESPCommand, RESPError> {
        Result { () throws(RESPError) in try RESPCommand.parse(words.map { Array($0.utf8) }, limits: limits) }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func commandsParseInAnyCase() {
        #expect(Self.parse("get", "k") == .success(.get(key: Self.bytes("k"))))
        #expect(Self.parse("GeT", "k") == .success(.get(key: Self.bytes("k"))))
        #expect(Self.parse("ping") == .success(.ping(nil)))
        #expect(Self.parse("PING", "hi") == .success(.ping(Self.bytes("hi"))))
        #expect(Self.parse("select", "0") == .success(.select))
        #expect(Self.parse("DEL", "a", "b") == .success(.del(keys: [Self.bytes("a"), Self.bytes("b")])))
        #expect(Self.parse("unlink", "a") == .success(.del(keys: [Self.bytes("a")])))
        #expect(Self.parse("EXISTS", "a", "a") == .success(.exists(keys: [Self.bytes("a"), Self.bytes("a")])))
        #expect(Self.parse("TTL", "k") == .success(.ttl(key: Self.bytes("k"), inMilliseconds: false)))
        #expect(Self.parse("PTTL", "k") == .success(.ttl(key: Self.bytes("k"), inMilliseconds: true)))
        #expect(Self.parse("EXPIRE", "k", "10") == .success(.expire(key: Self.bytes("k"), milliseconds: 10_000)))
        #expect(Self.parse("PEXPIRE", "k", "-5") == .success(.expire(key: Self.bytes("k"), milliseconds: -5)))
        #expect(Self.parse("MSET", "a", "1", "b", "2") == .success(.mset(pairs: [
            .init(key: Self.bytes("a"), value: Self.bytes("1")), .init(key: Self.bytes("b"), value: Self.bytes("2")),
        ])))
        #expect(Self.parse("INFO", "Server", "CLUSTER") == .success(.info(sections: ["server", "cluster"])))
        #expect(Self.parse("HELLO", "3", "SETNAME", "app") == .success(.hello(version: .resp3, clientName: Self.bytes("app"))))
        #expect(Self.parse("CLIENT", "setname", "app") == .success(.client(.setName(Self.bytes("app")))))
        #expect(Self.parse("COMMAND", "DOCS") == .success(.command(.docs([]))))
        #expect(Self.parse("CONFIG", "GET", "save") == .success(.configGet))
    }

    @Test func setOptions() {
        let k = Self.bytes("k"), v = Self.bytes("v")
        #expect(Self.parse("SET", "k", "v") == .success(.set(key: k, value: v, options: .init())))
        #expect(Self.parse("SET", "k", "v", "ex", "10") == .success(.set(key: k, value: v, options: .init(expiry: .after(.seconds(10))))))
        #expect(Self.parse("SET", "k", "v", "PX", "1500", "GET") == .success(.set(
            key: k, value: v, options: .init(expiry: .after(.milliseconds(1500)), returnOld: true))))
        #expect(Self.parse("SET", "k", "v", "KEEPTTL") == .success(.set(key: k, value: v, options: .init(expiry: .keep))))
        #expect(Self.parse("SET", "k", "v", "NX") == .success(.set(key: k, value: v, options: .init(condition: .ifAbsent))))
        #expect(Self.parse("SET", "k", "v", "XX", "GET") == .success(.set(key: k, value: v, options: .init(condition: .ifPresent, returnOld: true))))
        #expect(Self.parse("SETNX", "k", "v") == .success(.set(key: k, value: v, options: .init(condition: .ifAbsent))))
        #expect(Self.parse("SETEX", "k", "5", "v") == .success(.set(key: k, value: v, options: .init(expiry: .after(.seconds(5))))))
        #expect(Self.parse("PSETEX", "k", "5", "v") == .success(.set(key: k, value: v, options: .init(expiry: .after(.milliseconds(5))))))

        #expect(Self.parse("SET", "k", "v", "NX", "XX") == .failure(RESPError("syntax error")))
        #expect(Self.parse("SET", "k", "v", "EX", "1", "PX", "1") == .failure(RESPError("syntax error")))
        #expect(Self.parse("SET", "k", "v", "EX") == .failure(RESPError("wrong number of arguments for 'set' command")))
        #expect(Self.parse("SET", "k", "v", "EX", "0").failureMessage?.hasPrefix("invalid expire time in 'set' command") == true)
        #expect(Self.parse("SET", "k", "v", "EX", "1001").failureMessage?.hasPrefix("invalid expire time") == true)
        #expect(Self.parse("SET", "k", "v", "PX", "1000001").failureMessage?.hasPrefix("invalid expire time") == true)
        #expect(Self.parse("SET", "k", "v", "EX", "x") == .failure(RESPError("value is not an integer or out of range")))
        #expect(Self.parse("SET", "k", "v", "NX", "EX", "5").failureMessage?.hasPrefix("SET with NX or XX takes no EX") == true)
        #expect(Self.parse("SET", "k", "v", "EXAT", "5").failureMessage?.hasPrefix("Cairn takes no EXAT") == true)
        #expect(Self.parse("SET", "k", "v", "BOGUS") == .failure(RESPError("syntax error")))
    }

    @Test func keysValuesAndListsAreBounded() {
        #expect(Self.parse("GET", "") .failureMessage?.hasPrefix("Cairn keys are 1 to 8 bytes") == true)
        #expect(Self.parse("GET", "123456789") == .failure(RESPError("key is longer than the limit of 8 bytes")))
        #expect(Self.parse("SET", "k", String(repeating: "v", count: 17)) == .failure(RESPError("value is larger than the limit of 16 bytes")))
        #expect(Self.parse("MGET", "a", "b", "c", "d") == .failure(RESPError("MGET names more than the limit of 3 keys")))
        #expect(Self.parse("MSET", "a", "1", "b") == .failure(RESPError("wrong number of arguments for 'mset' command")))
        #expect(Self.parse("GET") == .failure(RESPError("wrong number of arguments for 'get' command")))
        #expect(Self.parse("GET", "a", "b") == .failure(RESPError("wrong number of arguments for 'get' command")))
        #expect(Self.parse("DEL") == .failure(RESPError("wrong number of arguments for 'del' command")))
        #expect(Self.parse("EXPIRE", "k", "1001").failureMessage?.hasPrefix("invalid expire time in 'expire' command") == true)
        #expect(Self.parse("EXPIRE", "k", "10", "NX").failureMessage?.hasPrefix("Cairn takes no NX, XX, GT or LT") == true)
        #expect(Self.parse("EXPIRE", "k", "99999999999999999999") == .failure(RESPError("value is not an integer or out of range")))
    }

    @Test func scanTakesPrefixPatternsOnly() {
        #expect(Self.parse("SCAN", "0") == .success(.scan(cursor: 0, pattern: .prefix([]), count: 10, stringsOnly: false)))
        #expect(Self.parse("SCAN", "42", "MATCH", "user:*", "COUNT", "5000") == .success(.scan(
            cursor: 42, pattern: .prefix(Self.bytes("user:")), count: 1000, stringsOnly: false)))
        #expect(Self.parse("SCAN", "0", "match", "*") == .success(.scan(cursor: 0, pattern: .prefix([]), count: 10, stringsOnly: false)))
        #expect(Self.parse("SCAN", "0", "MATCH", "exact") == .success(.scan(cursor: 0, pattern: .exact(Self.bytes("exact")), count: 10, stringsOnly: false)))
        #expect(Self.parse("SCAN", "0", "TYPE", "hash") == .success(.scan(cursor: 0, pattern: .prefix([]), count: 10, stringsOnly: true)))
        for pattern in ["*user", "us*er*", "user?", "user[ab]*", "a\\*"] {
            #expect(Self.parse("SCAN", "0", "MATCH", pattern).failureMessage?.hasPrefix("Cairn scans by prefix") == true, "\(pattern)")
        }
        #expect(Self.parse("SCAN", "-1") == .failure(RESPError("invalid cursor")))
        #expect(Self.parse("SCAN", "0", "COUNT", "0") == .failure(RESPError("syntax error")))
    }

    @Test func cairnCommands() {
        let context = CausalContext([ReplicaActor(node: NodeID(high: 0, low: 7)): 3])
        let token = APIResponse.contextToken(context)
        #expect(Self.parse("CAIRN.GETALL", "k") == .success(.getAll(key: Self.bytes("k"), serial: false)))
        #expect(Self.parse("cairn.getall", "k", "serial") == .success(.getAll(key: Self.bytes("k"), serial: true)))
        #expect(Self.parse("CAIRN.PUT", "k", "v", token) == .success(.put(key: Self.bytes("k"), value: Self.bytes("v"), context: context, ttl: nil)))
        #expect(Self.parse("CAIRN.PUT", "k", "v", "", "EX", "9") == .success(.put(
            key: Self.bytes("k"), value: Self.bytes("v"), context: CausalContext(), ttl: .seconds(9))))
        #expect(Self.parse("CAIRN.PUT", "k", "v", "!!").failureMessage?.hasPrefix("context is not a causal context") == true)
        #expect(Self.parse("CAIRN.DEL", "k", token) == .success(.deleteWithContext(key: Self.bytes("k"), context: context)))
        #expect(Self.parse("CAIRN.CAS", "k", "a", "b") == .success(.cas(key: Self.bytes("k"), expected: Self.bytes("a"), new: Self.bytes("b"))))
        #expect(Self.parse("CAIRN.CASNX", "k", "b") == .success(.cas(key: Self.bytes("k"), expected: nil, new: Self.bytes("b"))))
        #expect(Self.parse("CAIRN.CASDEL", "k", "a") == .success(.cas(key: Self.bytes("k"), expected: Self.bytes("a"), new: nil)))
    }

    @Test func connectionCommandsAndRefusals() {
        #expect(Self.parse("SELECT", "1").failureMessage?.hasPrefix("DB index is out of range") == true)
        #expect(Self.parse("HELLO", "4") == .failure(RESPError(code: .noProtocol, "unsupported protocol version")))
        #expect(Self.parse("AUTH", "secret") == .success(.auth(token: Self.bytes("secret"))))
        #expect(Self.parse("AUTH", "default", "secret") == .success(.auth(token: Self.bytes("secret"))))
        #expect(Self.parse("HELLO", "3", "AUTH", "default", "secret")
                == .success(.hello(version: .resp3, clientName: nil, auth: Self.bytes("secret"))))
        #expect(Self.parse("CLIENT", "SETNAME", "has space").failureMessage?.hasPrefix("Client names cannot contain spaces") == true)
        #expect(Self.parse("CLIENT", "KILL", "x").failureMessage?.hasPrefix("unknown subcommand 'KILL'") == true)
        #expect(Self.parse("FLUSHALL") == .failure(RESPError("unknown command 'FLUSHALL' (Cairn answers a subset of Redis's commands: docs/resp.md)")))
        #expect(Self.parse("CONFIG", "SET", "a", "b").failureMessage?.hasPrefix("Cairn answers only CONFIG GET") == true)
    }
}

extension Result where Failure == RESPError {
    var failureMessage: String? {
        if case .failure(let error) = self { return error.message }
        return nil
    }
}
