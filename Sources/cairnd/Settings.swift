import ArgumentParser
import CairnHTTP
import CairnNode
import CairnTLS
import CairnTransport
import CairnStorage
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `cairnd`'s settings merged from flags, the environment and a config file, in that order of
/// precedence.
struct Settings {
    var values: [String: String] = [:]
    var logLevel: Logger.Level = .info
    /// `--log-format json`: JSON lines (`JSONLogHandler`) instead of swift-log's text.
    var logsJSON = false

    static let names = [
        "data", "listen", "http", "seeds", "cluster", "partitions", "n", "r", "w", "secret-file", "durability", "log-level",
        "max-in-flight", "tombstone-grace", "cas-state-grace", "data-file-size", "unsafe-mode", "resp",
        "resp-max-connections", "http-max-connections", "cores", "auth-file", "allow-unauthenticated", "certs-dir",
        "log-format", "hint-max-bytes", "hint-max-age", "handoff-throttle", "join", "antientropy-interval", "clock-bound", "otel-endpoint",
    ]

    init(command: CairndCommand) throws {
        let flags: [String: String?] = [
            "data": command.data, "listen": command.listen, "http": command.http, "seeds": command.seeds,
            "cluster": command.cluster, "partitions": command.partitions.map(String.init), "n": command.replicas.map(String.init),
            "r": command.readQuorum.map(String.init), "w": command.writeQuorum.map(String.init),
            "secret-file": command.secretFile, "durability": command.durability, "log-level": command.logLevel,
            "max-in-flight": command.maxInFlight.map(String.init),
            "tombstone-grace": command.tombstoneGrace.map(String.init), "data-file-size": command.dataFileSize.map(String.init),
            "cas-state-grace": command.casStateGrace.map(String.init), "unsafe-mode": command.unsafeMode,
            "resp": command.resp, "resp-max-connections": command.respMaxConnections.map(String.init),
            "http-max-connections": command.httpMaxConnections.map(String.init),
            "cores": command.cores.map(String.init), "auth-file": command.authFile,
            "allow-unauthenticated": command.allowUnauthenticated, "certs-dir": command.certsDir,
            "log-format": command.logFormat, "hint-max-bytes": command.hintMaxBytes.map(String.init),
            "hint-max-age": command.hintMaxAge.map(String.init), "handoff-throttle": command.handoffThrottle.map(String.init),
            "join": command.join, "antientropy-interval": command.antiEntropyInterval.map(String.init),
            "clock-bound": command.clockBound.map(String.init), "otel-endpoint": command.otelEndpoint,
        ]
        var file: [String: String] = [:]
        if let path = command.config ?? Self.environment("CAIRN_CONFIG") { file = try Self.readConfigFile(path) }
        for name in Self.names {
            let environmentName = "CAIRN_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
            if let flag = flags[name] ?? nil { values[name] = flag }
            else if let environment = Self.environment(environmentName) { values[name] = environment }
            else if let fromFile = file[name] { values[name] = fromFile }
        }
        if let text = values["log-level"] {
            guard let level = Logger.Level(rawValue: text) else { throw ValidationError("unknown log level \(text)") }
            logLevel = level
        }
        switch values["log-format"] {
        case nil, "text": logsJSON = false
        case "json": logsJSON = true
        case let other?: throw ValidationError("--log-format must be text or json, not \(other)")
        }
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    static func readConfigFile(_ path: String) throws -> [String: String] {
        guard let bytes = try DurableFiles.read(path) else { throw ValidationError("config file \(path) does not exist") }
        var result: [String: String] = [:]
        for (number, rawLine) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            var parts = line.split(separator: "=", maxSplits: 1).map(\.trimmingWhitespace)
            // A name is written as its flag (`max-in-flight`) or with underscores (`max_in_flight`).
            if !parts.isEmpty { parts[0] = String(parts[0].map { $0 == "_" ? "-" : $0 }) }
            guard parts.count == 2, names.contains(parts[0]) else {
                throw ValidationError("\(path):\(number + 1): expected `name = value` with a known name (\(names.joined(separator: ", ")))")
            }
            result[parts[0]] = parts[1]
        }
        return result
    }

    func nodeConfiguration() throws -> NodeConfiguration {
        guard let data = values["data"] else { throw ValidationError("--data DIR is required (or CAIRN_DATA, or data = in --config)") }
        let (listenHost, listenPort) = try Self.hostPort(values["listen"] ?? "127.0.0.1:7070", name: "--listen")
        var configuration = NodeConfiguration(dataDirectory: data, listenHost: listenHost, listenPort: listenPort)
        let (httpHost, httpPort) = try Self.hostPort(values["http"] ?? "\(listenHost):7080", name: "--http")
        configuration.httpHost = httpHost
        configuration.httpPort = httpPort
        configuration.seeds = (values["seeds"] ?? "").split(separator: ",").map(\.trimmingWhitespace).filter { !$0.isEmpty }
        if let cluster = values["cluster"] { configuration.clusterName = cluster }
        configuration.partitions = try Self.integer(values["partitions"], name: "--partitions") ?? configuration.partitions
        configuration.replicas = try Self.integer(values["n"], name: "--n") ?? configuration.replicas
        configuration.readQuorum = try Self.integer(values["r"], name: "--r") ?? min(configuration.readQuorum, configuration.replicas)
        configuration.writeQuorum = try Self.integer(values["w"], name: "--w") ?? min(configuration.writeQuorum, configuration.replicas)
        configuration.maxInFlight = try Self.integer(values["max-in-flight"], name: "--max-in-flight") ?? configuration.maxInFlight
        configuration.tombstoneGraceSeconds = try Self.integer(values["tombstone-grace"], name: "--tombstone-grace")
            ?? configuration.tombstoneGraceSeconds
        configuration.casStateGraceSeconds = try Self.integer(values["cas-state-grace"], name: "--cas-state-grace")
            ?? configuration.casStateGraceSeconds
        configuration.cores = try Self.integer(values["cores"], name: "--cores") ?? configuration.cores
        if let bytes = try Self.integer(values["hint-max-bytes"], name: "--hint-max-bytes") {
            guard bytes >= 1 << 20 else { throw ValidationError("--hint-max-bytes must be at least 1048576 (1 MiB)") }
            configuration.hintMaxBytes = bytes
        }
        if let seconds = try Self.integer(values["hint-max-age"], name: "--hint-max-age") {
            guard (1...(365 * 86_400)).contains(seconds) else { throw ValidationError("--hint-max-age must be in 1...31536000 seconds") }
            configuration.hintMaxAgeSeconds = seconds
        }
        if let rate = try Self.integer(values["handoff-throttle"], name: "--handoff-throttle") {
            guard (4_096...(1 << 40)).contains(rate) else { throw ValidationError("--handoff-throttle must be in 4096...1099511627776 bytes per second") }
            configuration.handoffBytesPerSecond = rate
        }
        if let milliseconds = try Self.integer(values["antientropy-interval"], name: "--antientropy-interval") {
            guard (0...86_400_000).contains(milliseconds) else { throw ValidationError("--antientropy-interval must be in 0...86400000 milliseconds") }
            configuration.antiEntropyIntervalMilliseconds = UInt64(milliseconds)
        }
        if let milliseconds = try Self.integer(values["clock-bound"], name: "--clock-bound") {
            guard (1...86_400_000).contains(milliseconds) else { throw ValidationError("--clock-bound must be in 1...86400000 milliseconds") }
            configuration.clockBoundMilliseconds = UInt64(milliseconds)
        }
        switch values["join"] {
        case nil, "auto": configuration.stagedJoin = false
        case "staged": configuration.stagedJoin = true
        case let other?: throw ValidationError("--join must be auto (take partitions at once) or staged (wait for cairn cluster commit), not \(other)")
        }
        configuration.dataFileBytes = try Self.integer(values["data-file-size"], name: "--data-file-size") ?? configuration.dataFileBytes
        if let mode = values["unsafe-mode"] {
            switch mode {
            case "last-writer-wins": configuration.unsafeLastWriterWins = true
            case "unsealed-contexts": break  // `contextSeal`
            case "unproven-membership": configuration.acceptUnprovenMembership = true
            default:
                throw ValidationError(
                    """
                    --unsafe-mode knows only last-writer-wins (for testing checkers), unsealed-contexts (for measuring the \
                    seal) and unproven-membership (for showing what membership proofs prevent)
                    """)
            }
        }
        if let durability = values["durability"] {
            guard let parsed = Durability(parsing: durability) else { throw ValidationError("--durability must be always, interval:MS or none") }
            configuration.durability = parsed
        }
        if let path = values["secret-file"] {
            guard let secret = try DurableFiles.read(path) else { throw ValidationError("secret file \(path) does not exist") }
            try Self.checkPrivate(path, what: "secret file")
            var trimmed = secret
            while let last = trimmed.last, last == 10 || last == 13 || last == 32 { trimmed.removeLast() }
            configuration.secret = trimmed
        }
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.message)
        }
        return configuration
    }

    /// The client tokens of `--auth-file`, or nil: clients are not authenticated.
    func clientAuth() throws -> ClientAuth? {
        guard let path = values["auth-file"] else { return nil }
        guard let bytes = try DurableFiles.read(path) else { throw ValidationError("auth file \(path) does not exist") }
        try Self.checkPrivate(path, what: "auth file")
        do {
            return try ClientAuth(parsing: String(decoding: bytes, as: UTF8.self), path: path)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The node's TLS from `--certs-dir`, or nil: plain TCP on every port. The node key must be
    /// private to its owner, as the secret file must.
    func nodeTLS() throws -> NodeTLS? {
        guard let directory = values["certs-dir"] else { return nil }
        let key = CertificateFiles.path(directory, CertificateFiles.nodeKey)
        if access(key, F_OK) == 0 { try Self.checkPrivate(key, what: "node key") }
        do {
            return try NodeTLS.load(certsDirectory: directory)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The seal of the contexts handed to clients: keyed by the cluster secret (or name), or
    /// none under `--unsafe-mode unsealed-contexts`.
    func contextSeal(_ configuration: NodeConfiguration) -> ContextSeal {
        values["unsafe-mode"] == "unsealed-contexts"
            ? .unsealed : ContextSeal(secret: configuration.secret, clusterName: configuration.clusterName)
    }

    /// Refuses a file of secrets that users other than its owner may read: a token or a cluster
    /// secret readable by anyone on the host protects nothing (as ssh refuses a private key).
    static func checkPrivate(_ path: String, what: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ValidationError("\(what) \(path) cannot be read") }
        if info.st_mode & 0o077 != 0 {
            throw ValidationError(
                "\(what) \(path) may be read by other users (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 \(path)")
        }
    }

    /// Protected mode (as Redis's): a node whose client ports are reachable beyond loopback
    /// must authenticate clients, and one whose internode port is must have a cluster secret,
    /// unless `--allow-unauthenticated yes` says the operator means it.
    func checkProtectedMode(_ configuration: NodeConfiguration, clientAuth: ClientAuth?, respAddress: (host: String, port: Int)?) throws {
        if values["allow-unauthenticated"] == "yes" { return }
        if let value = values["allow-unauthenticated"] {
            throw ValidationError("--allow-unauthenticated takes only yes, not \(value)")
        }
        let clientHosts = [configuration.httpHost] + (respAddress.map { [$0.host] } ?? [])
        if clientAuth == nil, let exposed = clientHosts.first(where: { !Self.isLoopback($0) }) {
            throw ValidationError("""
                the client port listens on \(exposed), beyond loopback, and clients are not authenticated: give --auth-file \
                FILE (lines of `data TOKEN` / `admin TOKEN`), or listen on 127.0.0.1, or pass --allow-unauthenticated yes
                """)
        }
        if configuration.secret == nil, !Self.isLoopback(configuration.listenHost) {
            throw ValidationError("""
                the internode port listens on \(configuration.listenHost), beyond loopback, without a cluster secret: give \
                --secret-file FILE (16 bytes or more, the same on every node), or pass --allow-unauthenticated yes
                """)
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// The Redis protocol's address (`--resp`), or `nil`: no RESP listener unless asked for.
    func respAddress() throws -> (host: String, port: Int)? {
        guard let text = values["resp"] else { return nil }
        return try Self.hostPort(text, name: "--resp")
    }

    /// The most HTTP connections open at once (`--http-max-connections`, default 4096).
    func httpMaxConnections() throws -> Int {
        let value = try Self.integer(values["http-max-connections"], name: "--http-max-connections") ?? 4096
        guard (1...65_536).contains(value) else { throw ValidationError("--http-max-connections must be in 1...65536") }
        return value
    }

    /// The most Redis connections open at once (`--resp-max-connections`, default 1024).
    func respMaxConnections() throws -> Int {
        let value = try Self.integer(values["resp-max-connections"], name: "--resp-max-connections") ?? 1024
        guard (1...65_536).contains(value) else { throw ValidationError("--resp-max-connections must be in 1...65536") }
        return value
    }

    static func hostPort(_ text: String, name: String) throws -> (String, Int) {
        guard let address = WireAddress(text) else { throw ValidationError("\(name) \(text) is not HOST:PORT") }
        return (address.host, address.port)
    }

    static func integer(_ text: String?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name) \(text) is not a number") }
        return value
    }
}
