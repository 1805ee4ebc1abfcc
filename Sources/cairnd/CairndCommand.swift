import ArgumentParser
import CairnHTTP
import CairnNode
import CairnRESP
import CairnStorage
import Logging
import Metrics
import NIOPosix
import Prometheus
import ServiceLifecycle

/// `cairnd`: one Cairn node. Every node is started the same way; the first one without seeds
/// starts a cluster, every other joins through any seed (DESIGN.md §3).
@main
struct CairndCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairnd",
        abstract: "Run a Cairn node.",
        discussion: """
            Settings come from flags, then the environment (CAIRN_DATA, CAIRN_LISTEN, CAIRN_HTTP, \
            CAIRN_SEEDS, CAIRN_CLUSTER, CAIRN_PARTITIONS, CAIRN_N, CAIRN_R, CAIRN_W, CAIRN_SECRET_FILE, \
            CAIRN_DURABILITY, CAIRN_LOG_LEVEL, CAIRN_MAX_IN_FLIGHT, CAIRN_RESP, …), then a config file of `name = value` lines (--config; \
            the same names in lower case: data, listen, http, seeds, …, max_in_flight), then defaults. \
            SIGTERM or SIGINT stops the node cleanly. See docs/operations.md.
            """)

    @Option(help: "Data directory (identity, membership, partitions, hints).")
    var data: String?
    @Option(help: "Internode address HOST:PORT (default 127.0.0.1:7070).")
    var listen: String?
    @Option(help: "HTTP address HOST:PORT (default: the listen host, port 7080).")
    var http: String?
    @Option(help: "Redis protocol (RESP) address HOST:PORT (default: none, no Redis listener; docs/resp.md).")
    var resp: String?
    @Option(help: "Most Redis protocol connections open at once; one more is refused (default 1024).")
    var respMaxConnections: Int?
    @Option(help: "Most HTTP connections open at once; one more is answered 503 and closed (default 4096).")
    var httpMaxConnections: Int?
    @Option(help: "Internode addresses of nodes to join through, comma-separated.")
    var seeds: String?
    @Option(help: "Cluster name; nodes of other clusters are refused (default cairn).")
    var cluster: String?
    @Option(help: "Partitions Q, a power of two, fixed at cluster creation (default 64).")
    var partitions: Int?
    @Option(name: .customLong("n"), help: "Replicas per key N (default 3).")
    var replicas: Int?
    @Option(name: .customLong("r"), help: "Default read quorum R (default 2).")
    var readQuorum: Int?
    @Option(name: .customLong("w"), help: "Default write quorum W (default 2).")
    var writeQuorum: Int?
    @Option(help: "File holding the shared cluster secret (at least 16 bytes).")
    var secretFile: String?
    @Option(help: "File of client tokens, one `data TOKEN` or `admin TOKEN` per line: every request but /health and the status page must carry one.")
    var authFile: String?
    @Option(help: """
        Directory of ca.crt, node.crt and node.key (`cairn certs`): mutual TLS between nodes, HTTPS and TLS on the \
        Redis port for clients.
        """)
    var certsDir: String?
    @Option(help: "Start listening beyond loopback without client tokens or without a cluster secret: yes (protected mode off).")
    var allowUnauthenticated: String?
    @Option(help: "always (fsync before acknowledging; default), interval:MS, or none.")
    var durability: String?
    @Option(help: "trace, debug, info (default), notice, warning, error.")
    var logLevel: String?
    @Option(help: "text (default: swift-log's lines) or json (one JSON object per line, for log shippers).")
    var logFormat: String?
    @Option(help: "Most client data requests served at once; past it 503 overloaded (default 1024).")
    var maxInFlight: Int?
    @Option(help: "Seconds a deleted or expired key stays before it is removed for good (default 3600; 0 never).")
    var tombstoneGrace: Int?
    @Option(help: "Seconds after its last ballot a settled CAS acceptor state is collected (default 3600; 0 never).")
    var casStateGrace: Int?
    @Option(help: "Bytes at which a partition's data file is closed for merging (default 134217728).")
    var dataFileSize: Int?
    @Option(help: "Core instances, one per event loop, each owning a share of the partitions (default: one per CPU core).")
    var cores: Int?
    @Option(help: "Hint bytes a node keeps at most for unreachable replicas; the oldest go first past it (default 268435456).")
    var hintMaxBytes: Int?
    @Option(help: "Seconds a hint is kept before it is dropped and its partition left to anti-entropy (default 10800).")
    var hintMaxAge: Int?
    @Option(help: "Handoff throttle at start, bytes per second per transfer (default 16777216; retune with cairn cluster transfers throttle).")
    var handoffThrottle: Int?
    @Option(help: "auto (default: a node joining through --seeds takes partitions at once) or staged (it waits until cairn cluster commit).")
    var join: String?
    @Option(name: .customLong("antientropy-interval"),
            help: "Least milliseconds between two anti-entropy exchanges of each core instance (default 1000; retune with cairn cluster antientropy interval).")
    var antiEntropyInterval: Int?
    @Option(help: "Milliseconds this machine's clock may be off the cluster's median before the node warns (default 500).")
    var clockBound: Int?
    @Option(help: """
        Export request traces over OTLP/HTTP to this URL (for example http://127.0.0.1:4318/v1/traces); \
        needs a cairnd built with --traits OpenTelemetry. Default: no export.
        """)
    var otelEndpoint: String?
    @Option(help: """
        Testing only: last-writer-wins (replicas replace instead of merging; loses writes), unsealed-contexts \
        (contexts without their MAC, to measure what sealing costs; accepts forged contexts), or unproven-membership \
        (gossiped membership taken without its signatures; any peer can remove members).
        """)
    var unsafeMode: String?

    @Option(help: "Config file of `name = value` lines.")
    var config: String?

    func run() async throws {
        let settings = try Settings(command: self)
        var configuration = try settings.nodeConfiguration()
        let clientAuth = try settings.clientAuth()
        let tls = try settings.nodeTLS()
        configuration.internodeTLS = tls?.internode
        try settings.checkProtectedMode(configuration, clientAuth: clientAuth, respAddress: try settings.respAddress())
        // Contexts handed to clients are sealed under a key every node of the cluster derives alike.
        ContextSeal.install(settings.contextSeal(configuration))
        let respAddress = try settings.respAddress()
        let respMaxConnections = try settings.respMaxConnections()
        let httpMaxConnections = try settings.httpMaxConnections()
        let level = settings.logLevel
        if settings.logsJSON {
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        } else {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let logger = Logger(label: "cairnd")
        if !ContextSeal.current.isSealing {
            logger.warning("UNSAFE MODE unsealed-contexts: contexts go to clients without their MAC and forged ones are accepted. For measuring what sealing costs only.")
        }
        let registry = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: registry)
        metricsFactory.durationHistogramBuckets = NodeMetrics.durationHistogramBuckets
        metricsFactory.valueHistogramBuckets = NodeMetrics.valueHistogramBuckets
        MetricsSystem.bootstrap(metricsFactory)

        // One loop per core instance; the client listeners share them, so a request whose key
        // the connection's own instance owns is served without waking another thread.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: configuration.cores)
        let node = try Node(configuration: configuration, group: loops, logger: logger)
        let service = NodeService(node: node, metrics: { registry.emitToString() })
        let server = HTTPServer(
            service: service,
            configuration: HTTPServer.Configuration(
                host: configuration.httpHost, port: configuration.httpPort, maxInFlight: configuration.maxInFlight,
                maxConnections: httpMaxConnections, auth: clientAuth,
                tls: tls?.clients),
            group: loops)
        let (nodeStarted, nodeStartedContinuation) = AsyncThrowingStream<Void, any Error>.makeStream()
        let (respNodeStarted, respNodeStartedContinuation) = AsyncThrowingStream<Void, any Error>.makeStream()
        var readyMetadata: Logger.Metadata = [
            "cairn.node": "\(node.id)", "cairn.listen": "\(configuration.listenAddress)",
            "cairn.http": "\(configuration.httpAddress)", "cairn.tls": "\(tls == nil ? "off" : "on")",
        ]
        if let respAddress { readyMetadata["cairn.resp"] = "\(respAddress.host):\(respAddress.port)" }
        // Started in this order; on SIGTERM or SIGINT shut down in the reverse one (the Redis
        // and HTTP servers with their grace periods, then the node). If any fails, the others
        // are shut down gracefully too and the error ends the command.
        var services: [any Service] = []
        if let exporter = try TracingExport.service(
            endpoint: settings.values["otel-endpoint"], node: node.id.description, cluster: configuration.clusterName, logger: logger)
        {
            services.append(exporter)
        }
        services += [
            NodeLifecycle(node: node, started: [nodeStartedContinuation] + (respAddress == nil ? [] : [respNodeStartedContinuation])),
            HTTPLifecycle(
                server: server, nodeStarted: nodeStarted, gracePeriod: .seconds(5), logger: logger,
                readyMetadata: readyMetadata),
        ]
        if let respAddress {
            let respServer = RESPServer(
                service: service,
                configuration: RESPServer.Configuration(
                    host: respAddress.host, port: respAddress.port, maxConnections: respMaxConnections, auth: clientAuth,
                    tls: tls?.clients),
                logger: logger, group: loops)
            services.append(RESPLifecycle(server: respServer, nodeStarted: respNodeStarted, gracePeriod: .seconds(5), logger: logger))
        } else {
            respNodeStartedContinuation.finish()
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map {
                    .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                          failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        try? await loops.shutdownGracefully()
    }
}
