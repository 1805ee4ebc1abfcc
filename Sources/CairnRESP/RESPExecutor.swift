import CairnHTTP

/// Carries out parsed commands: the connection's own at once (`answer(_:session:)`), the data
/// commands against the node's `KeyValueService` (`execute(_:session:)`).
///
/// The translation from Redis's commands to Cairn's operations lives here and in its
/// extensions by aspect (`+Strings`, `+Expiry`, `+Scan`, `+Cairn`, `+Info`); docs/resp.md
/// states what each command guarantees. Errors of the service become `RESPError`s; none
/// escapes, so a failing command never harms the connection.
public struct RESPExecutor: Sendable {
    public let service: any KeyValueService
    public let limits: RESPLimits
    public let server: RESPServerState
    /// The address the server listens on (`host:port`), for `INFO`.
    public let address: String
    /// How many service calls one multi-key command (`MGET`, `MSET`, `DEL`, `EXISTS`) makes at
    /// once.
    public let keyConcurrency: Int
    /// The node's client tokens; nil when it does not authenticate clients.
    public let auth: ClientAuth?

    /// The Redis version whose commands Cairn answers like, reported by `INFO` and `HELLO` for
    /// client libraries that decide what to send by it.
    public static let compatibleRedisVersion = "7.0.0"

    public init(
        service: any KeyValueService, limits: RESPLimits, server: RESPServerState, address: String, keyConcurrency: Int = 8,
        auth: ClientAuth? = nil
    ) {
        precondition(keyConcurrency >= 1, "keyConcurrency must be at least 1, got \(keyConcurrency)")
        self.service = service
        self.limits = limits
        self.server = server
        self.address = address
        self.keyConcurrency = keyConcurrency
        self.auth = auth
    }

    /// What the connection does after answering.
    public enum After: Hashable, Sendable {
        case carryOn
        /// `QUIT`: close once the answer is written.
        case close
    }

    /// Answers a connection command (`RESPCommand.isConnectionCommand`), updating `session`.
    public func answer(_ command: RESPCommand, session: inout RESPSession) -> (RESPValue, After) {
        switch command {
        case .ping(let message):
            return (message.map(RESPValue.bulk) ?? .simpleString("PONG"), .carryOn)
        case .echo(let message):
            return (.bulk(message), .carryOn)
        case .quit:
            return (.ok, .close)
        case .select:
            return (.ok, .carryOn)
        case .hello(let version, let name, let token):
            if let token, let refusal = authenticate(token, session: &session) { return (.error(refusal), .carryOn) }
            if auth != nil, session.role == nil { return (.error(Self.noAuth), .carryOn) }
            if let version { session.version = version }
            if let name { session.name = name }
            return (hello(session), .carryOn)
        case .auth(let token):
            if let refusal = authenticate(token, session: &session) { return (.error(refusal), .carryOn) }
            return (.ok, .carryOn)
        case .client(let client):
            return (answer(client, session: &session), .carryOn)
        case .command(let query):
            return (RESPCommandTable.answer(query), .carryOn)
        case .configGet:
            return (.map([]), .carryOn)
        default:
            preconditionFailure("\(command) is not a connection command")
        }
    }

    static let noAuth = RESPError(code: .noAuth, "Authentication required.")

    /// Whether `command` may run on this connection now: on a node that authenticates clients,
    /// only `AUTH`, `HELLO` and `QUIT` before a token is proven (as Redis with a password).
    public func allows(_ command: RESPCommand, session: RESPSession) -> Bool {
        guard auth != nil, session.role == nil else { return true }
        switch command {
        case .auth, .hello, .quit: return true
        default: return false
        }
    }

    /// The refusal of a command `allows` rejects.
    public var authenticationRequired: RESPError { Self.noAuth }

    /// Proves `token`: on success the session takes its role.
    private func authenticate(_ token: [UInt8], session: inout RESPSession) -> RESPError? {
        guard let auth else {
            return RESPError("AUTH called, but this node takes no token: it was started without --auth-file (docs/resp.md)")
        }
        guard let role = auth.role(of: token) else {
            return RESPError(code: .wrongPass, "invalid username-password pair or user is disabled.")
        }
        session.role = role
        return nil
    }

    private func hello(_ session: RESPSession) -> RESPValue {
        .map([
            (.bulk("server"), .bulk("cairn")),
            (.bulk("version"), .bulk(Self.compatibleRedisVersion)),
            (.bulk("proto"), .integer(Int64(session.version.rawValue))),
            (.bulk("id"), .integer(Int64(clamping: session.id))),
            (.bulk("mode"), .bulk("standalone")),
            (.bulk("role"), .bulk("master")),
            (.bulk("modules"), .array([])),
        ])
    }

    private func answer(_ command: RESPCommand.ClientCommand, session: inout RESPSession) -> RESPValue {
        switch command {
        case .setName(let name):
            session.name = name.isEmpty ? nil : name
            return .ok
        case .getName:
            return session.name.map(RESPValue.bulk) ?? .null
        case .setInfo(let attribute, let value):
            if attribute == "LIB-NAME" { session.libraryName = value } else { session.libraryVersion = value }
            return .ok
        case .id:
            return .integer(Int64(clamping: session.id))
        case .info:
            let name = session.name.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let library = session.libraryName.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let libraryVersion = session.libraryVersion.map { String(decoding: $0, as: UTF8.self) } ?? ""
            return .bulk(
                "id=\(session.id) addr=\(session.peer) laddr=\(address) name=\(name) db=0 resp=\(session.version.rawValue) "
                    + "lib-name=\(library) lib-ver=\(libraryVersion)\n")
        }
    }

    /// Carries out a data command against the service; never throws: a failure is the error
    /// answer.
    public func execute(_ command: RESPCommand, session: RESPSession) async -> RESPValue {
        do {
            switch command {
            case .get(let key): return try await get(key)
            case .set(let key, let value, let options): return try await set(key, value, options)
            case .del(let keys): return try await delete(keys)
            case .exists(let keys): return try await exists(keys)
            case .type(let key): return try await type(key)
            case .expire(let key, let milliseconds): return try await expire(key, milliseconds: milliseconds)
            case .persist(let key): return try await persist(key)
            case .ttl(let key, let inMilliseconds): return try await ttl(key, inMilliseconds: inMilliseconds)
            case .mget(let keys): return try await mget(keys)
            case .mset(let pairs): return try await mset(pairs)
            case .scan(let cursor, let pattern, let count, let stringsOnly):
                return try await scan(cursor: cursor, pattern: pattern, count: count, stringsOnly: stringsOnly)
            case .info(let sections): return try await info(sections, session: session)
            case .getAll(let key, let serial): return try await getAll(key, serial: serial)
            case .put(let key, let value, let context, let ttl): return try await put(key, value, context: context, ttl: ttl)
            case .deleteWithContext(let key, let context): return try await delete(key, context: context)
            case .cas(let key, let expected, let new): return try await cas(key, expected: expected, new: new)
            case .ping, .echo, .quit, .select, .hello, .auth, .client, .command, .configGet:
                var copy = session
                return answer(command, session: &copy).0
            }
        } catch {
            return .error(RESPError.from(error))
        }
    }

    /// `body` of every element of `items`, at most `keyConcurrency` at a time, results in the
    /// order of `items`. `admit` sees each result as it arrives and may throw to stop early. The
    /// first error ends the work (the calls still running are cancelled) and is thrown; what was
    /// done stays done.
    func concurrently<Item: Sendable, Result: Sendable>(
        _ items: [Item], admit: (Result) throws -> Void = { _ in },
        _ body: @escaping @Sendable (Item) async throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: items.count)
            var next = 0
            func startNext() {
                let index = next
                group.addTask { (index, try await body(items[index])) }
                next += 1
            }
            while next < min(keyConcurrency, items.count) { startNext() }
            while let (index, result) = try await group.next() {
                try admit(result)
                results[index] = result
                if next < items.count { startNext() }
            }
            return results.map { $0! }
        }
    }
}
