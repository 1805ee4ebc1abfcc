import ArgumentParser

/// `cairn cluster`: the cluster as one node sees it, and membership changes.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show the cluster and change its membership.",
        subcommands: [ClusterStatusCommand.self, ClusterLeaveCommand.self, ClusterRemoveCommand.self]
    )
}

/// `cairn cluster status`.
struct ClusterStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Members, liveness, ring ownership and transfers, as the node sees them.",
        discussion: """
            Liveness ("reachable") is the opinion of the node the CLI talks to; another node may \
            see it differently. Shows every member's status (joining, valid, leaving, left, \
            removed) and partitions owned, the ring, and the handoffs in progress. --json prints \
            the node's document unchanged.
            """
    )

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: the node's document as it sent it.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func run() async throws {
        let (status, node) = try await options.withClient { client in (try await client.clusterStatus(), client.node) }
        if output.json {
            print(String(decoding: status.raw, as: UTF8.self))
        } else {
            print(Output.clusterStatus(status, via: node))
        }
    }
}

/// `cairn cluster leave [NODE]`.
struct ClusterLeaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leave",
        abstract: "Make a node leave: it hands its partitions off, then leaves.",
        discussion: """
            NODE is a node id or host:port; without it, the node the CLI talks to leaves. \
            Returns once the node is marked leaving; the handoff goes on in the background and \
            shows under "transfers" in 'cairn cluster status'.
            """
    )

    @Argument(help: "The node that leaves (id or host:port; default: the node talked to).")
    var node: String?

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"ok": true, "node", "status": "leaving"}`.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func run() async throws {
        let via = try await options.withClient { client in
            try await client.leave(node: node)
            return client.node
        }
        if output.json {
            print(Output.membershipJSON(node: node ?? via, status: "leaving"))
        } else {
            print("\(node ?? via) is leaving; its partitions are being handed off (see 'cairn cluster status')")
        }
    }
}

/// `cairn cluster remove NODE`.
struct ClusterRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a node that is gone for good.",
        discussion: """
            For a node that will not come back (a dead machine): the other nodes claim its \
            partitions. A node that is merely down is not removed by anything else; a node that \
            can still run should leave instead. NODE is a node id or host:port.
            """
    )

    @Argument(help: "The node to remove (id or host:port).")
    var node: String

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"ok": true, "node", "status": "removed"}`.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func run() async throws {
        try await options.withClient { client in try await client.remove(node: node) }
        print(output.json ? Output.membershipJSON(node: node, status: "removed") : "\(node) removed")
    }
}
