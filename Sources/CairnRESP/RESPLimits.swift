import CairnHTTP

/// The bounds the Redis protocol puts on every command, checked before the node does any work.
///
/// Keys, values, TTLs and scan pages take the HTTP API's limits (`APILimits`, DESIGN.md §2),
/// so a key or value one port accepts the other accepts too. The framing limits are checked
/// from each header as it arrives, before anything it announces is read or allocated: an array
/// longer than `maxArguments`, a bulk string longer than `maxBulkBytes`, or a command whose
/// bulk strings add up to more than `maxCommandBytes` is answered `-ERR` and its bytes are read
/// and thrown away without being kept, so the connection goes on with the next command
/// (STYLE.md, "Put a limit on everything").
public struct RESPLimits: Hashable, Sendable {
    /// Key, value, TTL and scan limits, shared with the HTTP API.
    public var api: APILimits
    /// The most arguments one command may have, its name included.
    public var maxArguments: Int
    /// The longest bulk string: a value, or a context token (base64url of up to 64 KiB).
    public var maxBulkBytes: Int
    /// The most bytes of bulk strings one command may carry (an `MSET` of many values).
    public var maxCommandBytes: Int
    /// The longest inline command (a line typed by hand, without the `*` framing).
    public var maxInlineBytes: Int
    /// The most keys one `MGET`, `MSET`, `DEL` or `EXISTS` may name.
    public var maxKeysPerCommand: Int
    /// The most bytes of values one `MGET` answer may carry; past it the command is refused
    /// rather than buffered.
    public var maxReplyBytes: Int

    /// The defaults: the HTTP API's key and value limits, 4,096 arguments, bulk strings up to
    /// the larger of a value and a maximal context token, 8 MiB per command (two maximal
    /// values) and 16 MiB per `MGET` answer, 64 KiB inline commands (as Redis), 1,000 keys per
    /// multi-key command. A connection holds at most one command and one answer of these sizes
    /// at a time, and the server at most `maxConnections` connections.
    public init(
        api: APILimits = APILimits(),
        maxArguments: Int = 4096,
        maxBulkBytes: Int? = nil,
        maxCommandBytes: Int? = nil,
        maxInlineBytes: Int = 64 << 10,
        maxKeysPerCommand: Int = 1000,
        maxReplyBytes: Int? = nil
    ) {
        let bulk = maxBulkBytes ?? max(api.maxValueBytes, api.maxKeyBytes, api.maxContextHeaderBytes)
        precondition(maxArguments >= 3, "maxArguments must be at least 3, got \(maxArguments)")
        precondition(bulk >= api.maxKeyBytes, "maxBulkBytes (\(bulk)) must hold a key of \(api.maxKeyBytes) bytes")
        precondition(maxInlineBytes >= 16, "maxInlineBytes must be at least 16, got \(maxInlineBytes)")
        precondition(maxKeysPerCommand >= 1, "maxKeysPerCommand must be at least 1, got \(maxKeysPerCommand)")
        self.api = api
        self.maxArguments = maxArguments
        self.maxBulkBytes = bulk
        self.maxCommandBytes = maxCommandBytes ?? max(8 << 20, bulk * 2)
        self.maxInlineBytes = maxInlineBytes
        self.maxKeysPerCommand = maxKeysPerCommand
        self.maxReplyBytes = maxReplyBytes ?? max(16 << 20, api.maxValueBytes * 4)
        precondition(self.maxCommandBytes >= bulk, "maxCommandBytes must hold one bulk string of \(bulk) bytes")
    }
}
