import CairnCore

/// One client command, parsed and checked: what the connection or the service is asked to do.
///
/// Produced by `RESPCommand.parse` from a command's arguments (pure; `RESPCommand+Parsing`), so
/// every key here is 1…`maxKeyBytes` bytes, every value at most `maxValueBytes`, every TTL
/// within `1...maxTTLSeconds` and every list within `maxKeysPerCommand`. docs/resp.md describes
/// each command and what it guarantees.
public enum RESPCommand: Hashable, Sendable {
    // MARK: Connection (answered by the connection itself, in order, without the service)

    /// `PING [message]`.
    case ping([UInt8]?)
    /// `ECHO message`.
    case echo([UInt8])
    /// `QUIT`: answer `+OK`, then close.
    case quit
    /// `SELECT 0`: the only database.
    case select
    /// `HELLO [protover [SETNAME name]]`: switch the protocol version, answer the server's
    /// particulars.
    case hello(version: RESPVersion?, clientName: [UInt8]?, auth: [UInt8]? = nil)
    /// `AUTH [username] token`: the username (a role name, or anything) is not checked.
    case auth(token: [UInt8])
    /// `CLIENT SETNAME`, `GETNAME`, `SETINFO`, `ID`, `INFO`.
    case client(ClientCommand)
    /// `COMMAND`, `COMMAND COUNT`, `COMMAND DOCS [name…]`, `COMMAND INFO [name…]`, `COMMAND LIST`.
    case command(CommandQuery)
    /// `CONFIG GET pattern…`: Cairn has no Redis configuration, so the answer is always empty
    /// (tools such as redis-benchmark ask at start and carry on).
    case configGet

    // MARK: Data (answered by the service)

    /// `GET key`.
    case get(key: [UInt8])
    /// `SET key value [NX | XX] [GET] [EX s | PX ms | KEEPTTL]`, and `SETNX`, `SETEX`, `PSETEX`.
    case set(key: [UInt8], value: [UInt8], options: SetOptions)
    /// `DEL key…` (and `UNLINK`).
    case del(keys: [[UInt8]])
    /// `EXISTS key…`.
    case exists(keys: [[UInt8]])
    /// `TYPE key`.
    case type(key: [UInt8])
    /// `EXPIRE key seconds` and `PEXPIRE key milliseconds`: `milliseconds` not positive deletes.
    case expire(key: [UInt8], milliseconds: Int64)
    /// `PERSIST key`.
    case persist(key: [UInt8])
    /// `TTL key` (`inMilliseconds` false) and `PTTL key`.
    case ttl(key: [UInt8], inMilliseconds: Bool)
    /// `MGET key…`.
    case mget(keys: [[UInt8]])
    /// `MSET key value [key value …]`.
    case mset(pairs: [KeyValue])
    /// `SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]`.
    case scan(cursor: UInt64, pattern: ScanPattern, count: Int, stringsOnly: Bool)

    /// `INFO [section…]`: Cairn's own sections (server, clients, cluster, replication).
    case info(sections: [String])

    // MARK: Cairn's own

    /// `CAIRN.GETALL key [SERIAL]`: every live sibling and the context.
    case getAll(key: [UInt8], serial: Bool)
    /// `CAIRN.PUT key value context [EX s | PX ms]`: a write that supersedes what `context`
    /// covers (the empty string: nothing, a blind write that adds a sibling).
    case put(key: [UInt8], value: [UInt8], context: CausalContext, ttl: Duration?)
    /// `CAIRN.DEL key context`: a tombstone that supersedes what `context` covers.
    case deleteWithContext(key: [UInt8], context: CausalContext)
    /// `CAIRN.CAS key expected new`, `CAIRN.CASNX key new`, `CAIRN.CASDEL key expected`:
    /// compare-and-set, `nil` standing for "absent".
    case cas(key: [UInt8], expected: [UInt8]?, new: [UInt8]?)

    /// A key and its new value.
    public struct KeyValue: Hashable, Sendable {
        public var key: [UInt8]
        public var value: [UInt8]

        public init(key: [UInt8], value: [UInt8]) {
            self.key = key
            self.value = value
        }
    }

    /// What `SET` was asked besides the value.
    public struct SetOptions: Hashable, Sendable {
        public enum Condition: Hashable, Sendable {
            /// Write whatever the key holds (a plain write).
            case always
            /// `NX`: only if the key holds no value, by compare-and-set.
            case ifAbsent
            /// `XX`: only if the key holds a value, by compare-and-set.
            case ifPresent
        }

        public enum Expiry: Hashable, Sendable {
            /// No time to live: the value never expires (SET's default clears a TTL).
            case none
            /// `EX` or `PX`.
            case after(Duration)
            /// `KEEPTTL`: the TTL the value being replaced has left.
            case keep
        }

        public var condition: Condition
        public var expiry: Expiry
        /// `GET`: answer the value replaced (or nil) instead of `OK`.
        public var returnOld: Bool

        public init(condition: Condition = .always, expiry: Expiry = .none, returnOld: Bool = false) {
            self.condition = condition
            self.expiry = expiry
            self.returnOld = returnOld
        }
    }

    /// `SCAN … MATCH`: Cairn scans by prefix, so only patterns that are a prefix are taken.
    public enum ScanPattern: Hashable, Sendable {
        /// `prefix*`, or `*` (every key), or no MATCH at all.
        case prefix([UInt8])
        /// A pattern without wildcards: that one key.
        case exact([UInt8])
    }

    /// `CLIENT …`.
    public enum ClientCommand: Hashable, Sendable {
        case setName([UInt8])
        case getName
        /// `CLIENT SETINFO LIB-NAME|LIB-VER value`: recorded, shown by `CLIENT INFO`.
        case setInfo(attribute: String, value: [UInt8])
        case id
        case info
    }

    /// `COMMAND …`.
    public enum CommandQuery: Hashable, Sendable {
        case all
        case count
        case list
        case docs([String])
        case info([String])
    }

    /// Whether the connection answers the command itself, at once and in order, without the
    /// service (it may change the connection's own state: name, protocol version).
    public var isConnectionCommand: Bool {
        switch self {
        case .ping, .echo, .quit, .select, .hello, .auth, .client, .command, .configGet: true
        default: false
        }
    }
}
