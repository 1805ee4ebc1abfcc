import CairnCore
import CairnWire

/// Who this node is to its peers.
public struct WireIdentity: Sendable {
    public var clusterName: String
    public var node: NodeID
    /// The cluster secret, when the cluster has one.
    public var secret: ClusterSecret?

    public init(clusterName: String, node: NodeID, secret: ClusterSecret? = nil) {
        self.clusterName = clusterName
        self.node = node
        self.secret = secret
    }

    func handshake(listenAddress: String) -> Handshake.Configuration {
        Handshake.Configuration(clusterName: clusterName, node: node, listenAddress: listenAddress, authenticator: secret)
    }
}
