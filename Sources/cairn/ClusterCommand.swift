import ArgumentParser
import CairnClient
import CairnHTTP

/// `cairn cluster`: the cluster as one node sees it, and membership changes.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show the cluster and change its membership.",
        subcommands: [ClusterStatusCommand.self, ClusterLeaveCommand.self, ClusterRemoveCommand.self, ClusterTransfersCommand.self,
                      ClusterAntiEntropyCommand.self, ClusterPlanCommand.self, ClusterCommitCommand.self]
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

/// `cairn cluster transfers [pause | resume | throttle BYTES_PER_SECOND | cancel PARTITION [--to NODE]]`.
struct ClusterTransfersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfers",
        abstract: "Show, pause, resume, retune or cancel the handoff transfers a node sends.",
        discussion: """
            Without an action: the node's transfers in progress (partition, target, state, keys \
            and bytes sent of the partition's) and whether handoff is paused, with its throttle. \
            pause: running transfers stop after the batch in flight; resume: each goes on after \
            its last acknowledged batch. throttle N: N bytes per second per transfer (at least \
            4096). cancel P [--to NODE]: the node stops sending partition P (to NODE, or to all), \
            and tells the target it has all this node will send, so the target serves the \
            partition; what was not sent comes by anti-entropy. A leaving node refuses to cancel. \
            Each order acts on the one node talked to; a pause lasts until resumed or the node \
            restarts.
            """
    )

    @Argument(help: "pause, resume, throttle or cancel (none: show).")
    var action: String?

    @Argument(help: "throttle: bytes per second; cancel: the partition.")
    var value: Int?

    @Option(help: ArgumentHelp("cancel: only the transfer to this node (id or host:port).", valueName: "node"))
    var to: String?

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: the node's answer (`paused`, `bytes_per_second`, `cancelled`), or without an
    /// action its `handoff` and `transfers`.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func validate() throws {
        switch action {
        case nil:
            guard value == nil, to == nil else { throw ValidationError("show takes no value and no --to") }
        case "pause", "resume":
            guard value == nil, to == nil else { throw ValidationError("\(action!) takes no value and no --to") }
        case "throttle":
            guard let value, to == nil else { throw ValidationError("throttle takes the bytes per second: cairn cluster transfers throttle 8388608") }
            guard value >= 4_096 else { throw ValidationError("the throttle must be at least 4096 bytes per second") }
        case "cancel":
            guard let value, value >= 0 else { throw ValidationError("cancel takes the partition: cairn cluster transfers cancel 12 [--to NODE]") }
        case let other?:
            throw ValidationError("unknown action '\(other)': pause, resume, throttle or cancel")
        }
    }

    func run() async throws {
        if action == nil {
            let status = try await options.withClient { client in try await client.clusterStatus() }
            guard case .object(let top) = status.json else { return }
            if output.json {
                print(Output.render(.object(["handoff": top["handoff"] ?? .null, "transfers": .array(status.transfers)])))
                return
            }
            print(Output.handoff(top["handoff"]))
            print(status.transfers.isEmpty ? "transfers: none" : "transfers (\(status.transfers.count)):")
            for transfer in status.transfers {
                if case .object(let members) = transfer {
                    print("  " + Output.pairs(members, first: ["partition", "to", "state", "sent_keys", "total_keys"]))
                }
            }
            return
        }
        let answer = try await options.withClient { client -> CairnClient.HandoffSteering in
            switch action {
            case "pause": try await client.pauseTransfers()
            case "resume": try await client.resumeTransfers()
            case "throttle": try await client.throttleTransfers(bytesPerSecond: value!)
            default: try await client.cancelTransfers(partition: value!, to: to)
            }
        }
        var members: [String: JSONValue] = ["paused": .bool(answer.paused), "bytes_per_second": .integer(Int64(answer.bytesPerSecond))]
        if let cancelled = answer.cancelled { members["cancelled"] = .integer(Int64(cancelled)) }
        if output.json {
            print(Output.render(.object(members)))
        } else {
            if let cancelled = answer.cancelled { print("cancelled \(cancelled) transfer\(cancelled == 1 ? "" : "s") of partition \(value!)") }
            print(Output.handoff(.object(members)))
        }
    }
}

/// `cairn cluster antientropy exchange|rebuild-tree PARTITION`.
struct ClusterAntiEntropyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "antientropy",
        abstract: "Steer a node's anti-entropy: one partition now, a tree rebuild, or the sweep's pace.",
        discussion: """
            pause / resume: stop or restart the node's sweep (its round-robin of exchanges over \
            its partitions; urgent exchanges still run). interval MS: the least milliseconds \
            between two exchanges of the sweep, per core instance (0: one per maintenance tick). \
            exchange P: the node talked to exchanges partition P with each other replica it \
            reaches, before anything else in its plan (progress in 'GET /v1/cluster/partitions' \
            and on the status page). rebuild-tree P: the node rebuilds its Merkle tree of P from \
            its records and says whether the root changed (it should not: the tree is kept \
            current on the write path). Both need an admin token.
            """
    )

    @Argument(help: "exchange, rebuild-tree, pause, resume or interval.")
    var action: String

    @Argument(help: "The partition (exchange, rebuild-tree) or the milliseconds (interval).")
    var value: Int?

    var partition: Int { value ?? 0 }

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: the node's answer.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func validate() throws {
        switch action {
        case "exchange", "rebuild-tree":
            guard let value, (0...65_535).contains(value) else { throw ValidationError("\(action) takes a partition in 0...65535") }
        case "interval":
            guard let value, (0...86_400_000).contains(value) else { throw ValidationError("interval takes milliseconds in 0...86400000") }
        case "pause", "resume":
            guard value == nil else { throw ValidationError("\(action) takes no value") }
        default:
            throw ValidationError("unknown action '\(action)': exchange, rebuild-tree, pause, resume or interval")
        }
    }

    func run() async throws {
        if ["pause", "resume", "interval"].contains(action) {
            let answer = try await options.withClient { client in try await client.steerAntiEntropy(action, intervalMilliseconds: value) }
            if output.json {
                print(Output.render(answer))
            } else if case .object(let members) = answer {
                print("anti-entropy: " + Output.pairs(members, first: ["paused", "interval_ms"]))
            }
            return
        }
        let wire = action == "exchange" ? "exchange" : "rebuild_tree"
        let answer = try await options.withClient { client in try await client.antiEntropy(wire, partition: partition) }
        if output.json {
            print(Output.render(answer))
        } else if case .object(let members) = answer {
            if case .array(let peers)? = members["peers"] {
                let names = peers.compactMap { if case .string(let name) = $0 { name } else { nil } }
                print("partition \(partition): exchanging with \(names.joined(separator: ", "))")
            } else {
                print("partition \(partition): " + Output.pairs(members, first: ["keys", "changed", "root_before", "root_after"]))
            }
        }
    }
}

/// `cairn cluster plan [--leave NODE]... [--remove NODE]...`.
struct ClusterPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a membership change would move, before making it.",
        discussion: """
            Plans every staged join (nodes started with 'cairnd --join staged' that wait for a \
            commit) and the leaves and removals given, through any node: the ring each step \
            leads to, the partitions, keys and bytes each node would receive and send, an \
            estimated time at the node's handoff throttle, the balance after, and whether every \
            partition keeps N distinct replicas. Keys and bytes come from the partitions the \
            node talked to holds (the others count as their mean). Prints the token that \
            'cairn cluster commit' carries out; a commit after the cluster has changed is \
            refused (plan again). Needs an admin token.
            """
    )

    @Option(help: ArgumentHelp("A member to leave (id or host:port); repeatable.", valueName: "node"))
    var leave: [String] = []

    @Option(help: ArgumentHelp("A member gone for good to remove (id or host:port); repeatable.", valueName: "node"))
    var remove: [String] = []

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: the node's plan document.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func run() async throws {
        let plan = try await options.withClient { client in try await client.plan(leave: leave, remove: remove) }
        print(output.json ? Output.render(plan) : Output.plan(plan))
    }
}

/// `cairn cluster commit PLAN`.
struct ClusterCommitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Carry out a plan that 'cairn cluster plan' printed.",
        discussion: """
            Through any node. The node checks that the plan is still the cluster's (same ring \
            version, same staged joins), then makes its changes one at a time, each once the \
            ring of the one before is in place, and returns when the last ring is; handoff goes \
            on in the background ('cairn cluster transfers'). Waits at least 60 s and 35 s per \
            step (--timeout for more); a commit goes on if the CLI stops waiting. The node must \
            be a valid member that the plan does not take out before its last step. Needs an \
            admin token.
            """
    )

    @Argument(help: "The plan token 'cairn cluster plan' printed.")
    var plan: String

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: the node's answer.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func run() async throws {
        // Each step may wait up to 30 s for its ring, plus the pause between steps.
        let steps = plan.split(separator: ".").count - 1
        let answer = try await options.withClient(minimumTimeout: max(60, 35 * Double(steps) + 5)) { client in
            try await client.commit(plan: plan)
        }
        if output.json {
            print(Output.render(answer))
        } else if case .object(let members) = answer, case .array(let steps)? = members["committed"] {
            for step in steps {
                guard case .object(let step) = step else { continue }
                print("committed: " + Output.pairs(step, first: ["change", "node", "ring_version"]))
            }
            print("handoff runs in the background: cairn cluster transfers")
        }
    }
}
