import ArgumentParser
import CairnClient
import CairnTLS
import Foundation
import NIOSSL

/// The options every command that talks to a node takes: which node, and how long to wait.
/// Global: `CairnCommand` declares them too, so they may come before the command name.
struct NodeOptions: ParsableArguments {
    /// Where the CLI looks when neither `--node` nor `CAIRN_NODE` says.
    static let defaultNode = "127.0.0.1:7080"
    static let environmentVariable = "CAIRN_NODE"

    @Option(help: ArgumentHelp(
        "The node to talk to (default: $CAIRN_NODE, else \(NodeOptions.defaultNode)).", valueName: "host:port"))
    var node: String?

    @Option(help: ArgumentHelp("Seconds to wait for the node's answer, connecting included.", valueName: "seconds"))
    var timeout: Double = 10

    @Option(help: ArgumentHelp(
        "The client token of a node started with --auth-file (default: $CAIRN_TOKEN).", valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp(
        "The CA certificate (ca.crt) of a node started with --certs-dir: talk HTTPS and check the node's certificate against it (default: $CAIRN_CA).",
        valueName: "file"))
    var ca: String?

    @Option(help: ArgumentHelp(
        "The local address to connect from, for example 127.0.0.100 (default: $CAIRN_SOURCE_ADDRESS, else the system's choice).",
        valueName: "address"))
    var sourceAddress: String?

    /// `--source-address`, else `CAIRN_SOURCE_ADDRESS` when set and not empty.
    var resolvedSourceAddress: String? {
        if let sourceAddress { return sourceAddress }
        let fromEnvironment = ProcessInfo.processInfo.environment["CAIRN_SOURCE_ADDRESS"] ?? ""
        return fromEnvironment.isEmpty ? nil : fromEnvironment
    }

    /// `--ca`, else `CAIRN_CA` when set and not empty.
    func resolvedCA(environment: [String: String]) -> String? {
        if let ca { return ca }
        if let fromEnvironment = environment["CAIRN_CA"], !fromEnvironment.isEmpty { return fromEnvironment }
        return nil
    }

    /// The TLS context of `--ca`, or nil for plain HTTP.
    func tlsContext() throws -> NIOSSLContext? {
        guard let ca = resolvedCA(environment: ProcessInfo.processInfo.environment) else { return nil }
        do {
            return try ClientTLS.context(trusting: ca)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// `--token`, else `CAIRN_TOKEN` when set and not empty.
    func resolvedToken(environment: [String: String]) -> String? {
        if let token { return token }
        if let fromEnvironment = environment["CAIRN_TOKEN"], !fromEnvironment.isEmpty { return fromEnvironment }
        return nil
    }

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] seconds") }
        let node = resolvedNode(environment: ProcessInfo.processInfo.environment)
        guard NodeAddress(parsing: node) != nil else {
            throw ValidationError("the node '\(node)' is not host:port (for example \(Self.defaultNode))")
        }
    }

    /// `--node`, else `CAIRN_NODE` when set and not empty, else the default.
    func resolvedNode(environment: [String: String]) -> String {
        if let node { return node }
        if let fromEnvironment = environment[Self.environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return Self.defaultNode
    }

    /// A client of the chosen node, waiting at least `minimumTimeout` seconds for an answer;
    /// nothing connects until the first request.
    func client(minimumTimeout: Double = 0) throws -> CairnClient {
        try CairnClient(
            node: resolvedNode(environment: ProcessInfo.processInfo.environment),
            timeout: .milliseconds(Int64((max(timeout, minimumTimeout) * 1000).rounded(.up))), sourceAddress: resolvedSourceAddress,
            token: resolvedToken(environment: ProcessInfo.processInfo.environment), tls: tlsContext())
    }

    /// Runs `body` with a client, turning a client error into its one-line message on stderr
    /// and exit status 1.
    func withClient<T>(minimumTimeout: Double = 0, _ body: (CairnClient) async throws -> T) async throws -> T {
        let client = try client(minimumTimeout: minimumTimeout)
        defer { client.close() }
        do {
            return try await body(client)
        } catch let error as CairnClientError {
            printError("cairn: \(error)")
            throw ExitCode(ExitStatus.error)
        }
    }
}
