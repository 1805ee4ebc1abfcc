import Foundation
import Testing

/// Real `cairnd` processes on loopback addresses 127.0.0.1…9 for the multi-process tests.
/// Each test uses its own port pair, so tests never see each other's nodes; every node's log
/// is kept and printed when a test fails. The test's own requests (curl) come from
/// 127.0.0.100, an address no node has.
final class LocalCluster: @unchecked Sendable {
    let directory: String
    let internodePort: Int
    let httpPort: Int
    let cluster: String
    private(set) var processes: [Int: Process] = [:]
    private var arguments: [Int: [String]] = [:]
    private var environments: [Int: [String: String]] = [:]
    /// The cluster CA's certificate when the nodes serve HTTPS (`--certs-dir`): test requests
    /// then use https:// and check each node's certificate against it.
    var caCertificate: String?
    /// The source address of every test request.
    static let clientAddress = "127.0.0.100"

    convenience init(name: String, portOffset: Int, cluster: String = "test") throws {
        try self.init(name: name, internodePort: 27_000 + portOffset, httpPort: 28_000 + portOffset, cluster: cluster)
    }

    /// A cluster on ports outside the 27000/28000 ranges of the offsets.
    init(name: String, internodePort: Int, httpPort: Int, cluster: String = "test") throws {
        directory = NSTemporaryDirectory() + "cairn-node-tests-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.internodePort = internodePort
        self.httpPort = httpPort
        self.cluster = cluster
    }

    deinit {
        for process in processes.values where process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        // KEEP_NODE_LOGS=1 keeps the nodes' data and logs for a post-mortem.
        if ProcessInfo.processInfo.environment["KEEP_NODE_LOGS"] == nil { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Runs `executable` with `arguments` (and `environment` added to the test's) to its end;
    /// its exit status and its stdout and stderr together.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The `cairnd` built beside the test bundle.
    static var cairnd: String {
        var dir = CommandLine.arguments[0]
        while !dir.isEmpty && !dir.hasSuffix(".xctest") && dir != "/" {
            dir = String(dir[..<(dir.lastIndex(of: "/") ?? dir.startIndex)])
        }
        let base = dir.hasSuffix(".xctest") ? String(dir[..<dir.lastIndex(of: "/")!]) : ".build/debug"
        return base + "/cairnd"
    }

    func http(_ node: Int) -> String { "127.0.0.\(node):\(httpPort)" }
    func internode(_ node: Int) -> String { "127.0.0.\(node):\(internodePort)" }
    func logPath(_ node: Int) -> String { directory + "/node\(node).log" }

    /// Starts node `node` (joining through node 1 unless it is node 1, or through `seed`), with
    /// `environment` added to the test's own (kept for restarts).
    func start(_ node: Int, cluster: String? = nil, seed: Int? = 1, environment: [String: String]? = nil) throws {
        var args = arguments[node] ?? [
            "--data", directory + "/node\(node)", "--listen", internode(node), "--http", http(node),
            "--cluster", cluster ?? self.cluster, "--partitions", "16", "--log-level", "info",
        ]
        if arguments[node] == nil, let seed, seed != node { args += ["--seeds", internode(seed)] }
        arguments[node] = args
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.cairnd)
        process.arguments = args
        if let environment { environments[node] = environment }
        process.environment = ProcessInfo.processInfo.environment.merging(environments[node] ?? [:]) { $1 }
        if !FileManager.default.fileExists(atPath: logPath(node)) {
            _ = FileManager.default.createFile(atPath: logPath(node), contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath(node)))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        processes[node] = process
        try waitUntil("node \(node) answers /health", timeout: 20) { self.request("GET", node, "/health").status != 0 }
    }

    /// Starts node `node` with its settings in `CAIRN_*` variables and no flags: a process under
    /// libfaketime's `LD_PRELOAD` does not see its command-line flags.
    func startFromEnvironment(_ node: Int, seed: Int? = 1, environment: [String: String]) throws {
        var settings = [
            "CAIRN_DATA": directory + "/node\(node)", "CAIRN_LISTEN": internode(node), "CAIRN_HTTP": http(node),
            "CAIRN_CLUSTER": cluster, "CAIRN_PARTITIONS": "16", "CAIRN_LOG_LEVEL": "info",
        ]
        if let seed, seed != node { settings["CAIRN_SEEDS"] = internode(seed) }
        arguments[node] = []
        try start(node, environment: settings.merging(environment) { $1 })
    }

    func kill(_ node: Int, signal: Int32 = SIGKILL) {
        guard let process = processes[node] else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// Sends `signal` to node `node` without waiting (SIGSTOP, SIGCONT).
    func signal(_ node: Int, _ signal: Int32) {
        guard let process = processes[node], process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
    }

    func stopAll() {
        // A stopped (SIGSTOP) node would never act on SIGTERM: continue it first.
        for node in processes.keys.sorted() { signal(node, SIGCONT) }
        for node in processes.keys.sorted() where processes[node]!.isRunning { kill(node, signal: SIGTERM) }
    }

    /// Every running node sees `count` valid members and the same ring with all of them.
    func waitForRing(members count: Int, nodes: [Int], timeout: Double = 30) throws {
        try waitUntil("the ring converges on \(count) members", timeout: timeout) {
            var versions: Set<Int64> = []
            for node in nodes {
                guard let status = self.json("GET", node, "/v1/cluster"),
                      let members = status["members"] as? [[String: Any]],
                      members.filter({ $0["status"] as? String == "valid" }).count == count,
                      let ring = status["ring"] as? [String: Any],
                      (ring["members"] as? NSNumber)?.intValue == count,
                      let version = (ring["version"] as? NSNumber)?.int64Value else { return false }
                versions.insert(version)
            }
            return versions.count == 1
        }
    }

    struct Response {
        var status: Int
        var body: String
        var headers: [String: String]
    }

    /// An HTTP request through curl (a real client on a real socket).
    func request(_ method: String, _ node: Int, _ path: String, body: String? = nil, headers: [String: String] = [:],
                 bodyFile: String? = nil) -> Response {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var args = [
            "curl", "-s", "-S", "-m", "10", "--interface", Self.clientAddress, "-D", "-", "-X", method,
            (caCertificate == nil ? "http://" : "https://") + http(node) + path,
        ]
        if let caCertificate { args += ["--cacert", caCertificate] }
        for (name, value) in headers { args += ["-H", "\(name): \(value)"] }
        if let body { args += ["--data-binary", body] }
        if let bodyFile { args += ["--data-binary", "@" + bodyFile] }
        process.arguments = args
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = Pipe()
        do { try process.run() } catch { return Response(status: 0, body: "\(error)", headers: [:]) }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        var status = 0
        var headers: [String: String] = [:]
        var remaining = Substring(text)
        // Skip interim responses (100 Continue); parse the final head.
        while let end = remaining.range(of: "\r\n\r\n") {
            let head = remaining[..<end.lowerBound]
            remaining = remaining[end.upperBound...]
            let lines = head.split(separator: "\r\n")
            status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
            headers = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            if status != 100 { break }
        }
        return Response(status: status, body: String(remaining), headers: headers)
    }

    func json(_ method: String, _ node: Int, _ path: String, body: String? = nil, headers: [String: String] = [:]) -> [String: Any]? {
        let response = request(method, node, path, body: body, headers: headers)
        return (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any]
    }

    func put(_ node: Int, _ key: String, _ value: String, query: String = "", context: String? = nil) -> Response {
        var headers = ["Content-Type": "application/octet-stream"]
        if let context { headers["X-Cairn-Context"] = context }
        return request("PUT", node, "/v1/keys/\(key)\(query)", body: value, headers: headers)
    }

    func get(_ node: Int, _ key: String, query: String = "") -> Response {
        request("GET", node, "/v1/keys/\(key)\(query)")
    }

    /// The value of an unlabelled metric in node `node`'s `/metrics`, `nil` when it is missing.
    func metric(_ node: Int, _ name: String) -> Double? {
        let text = request("GET", node, "/metrics").body
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// The logs of every node, for a failing test.
    func logs() -> String {
        processes.keys.sorted().map { node in
            let text = (try? String(contentsOfFile: logPath(node), encoding: .utf8)) ?? ""
            return "---- node \(node) ----\n" + text.split(separator: "\n").suffix(60).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    func waitUntil(_ what: String, timeout: Double, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ClusterError(message: "timed out after \(timeout) s waiting until \(what)\n\(logs())")
    }
}

struct ClusterError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
