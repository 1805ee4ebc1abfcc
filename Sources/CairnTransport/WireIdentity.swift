import CairnCore
import CairnWire

/// Who this node is to its peers.
public struct WireIdentity: Sendable {
    public var clusterName: String
    public var node: NodeID
    /// The cluster secret, when the cluster has one.
    public var secret: ClusterSecret?
    /// Mutual TLS with the cluster CA's certificates, when the node has them.
    public var tls: WireTLS?

    public init(clusterName: String, node: NodeID, secret: ClusterSecret? = nil, tls: WireTLS? = nil) {
        self.clusterName = clusterName
        self.node = node
        self.secret = secret
        self.tls = tls
    }

    func handshake(listenAddress: String) -> Handshake.Configuration {
        Handshake.Configuration(clusterName: clusterName, node: node, listenAddress: listenAddress, authenticator: secret)
    }
}
