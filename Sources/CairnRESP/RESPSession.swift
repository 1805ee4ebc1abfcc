import CairnHTTP

/// What one connection remembers about its client: its id, the protocol version it speaks,
/// the name it gave itself. Owned by the connection's handler on its event loop; commands see a
/// copy.
public struct RESPSession: Hashable, Sendable {
    /// The connection's id, unique within the server's run (`CLIENT ID`).
    public var id: UInt64
    /// The client's address as `host:port`, for `CLIENT INFO`.
    public var peer: String
    /// RESP2 until the client says `HELLO 3`.
    public var version: RESPVersion = .resp2
    /// `CLIENT SETNAME` / `HELLO … SETNAME`.
    public var name: [UInt8]?
    /// `CLIENT SETINFO LIB-NAME` and `LIB-VER`.
    public var libraryName: [UInt8]?
    public var libraryVersion: [UInt8]?
    /// The role this connection's `AUTH` proved; nil until then (and always, on a node that
    /// does not authenticate clients).
    public var role: ClientAuth.Role?

    public init(id: UInt64, peer: String) {
        self.id = id
        self.peer = peer
    }
}
