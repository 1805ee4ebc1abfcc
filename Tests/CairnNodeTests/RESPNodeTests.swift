import Foundation
import Testing

/// Three real `cairnd` processes with their Redis listener on (`CAIRN_RESP`), driven by the
/// real `redis-cli` (Debian's redis-tools, which Scripts/setup.sh installs): what a Redis user
/// does against any node, read back through the others. redis-cli cannot choose its source
/// address, so unlike curl these requests come from 127.0.0.1; no test here cuts links by
/// address.
@Suite struct RESPNodeTests {
    static let respPort = 29_130

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The lines redis-cli printed (raw output: one value per line, nil as an empty line).
        /// Split on LF bytes: a Swift `Character` holds a whole CRLF, which INFO's lines end in.
        var lines: [String] {
            stdout.utf8.split(separator: 10, omittingEmptySubsequences: false).dropLast().map {
                String(decoding: $0.last == 13 ? $0.dropLast() : $0, as: UTF8.self)
            }
        }
    }

    /// Runs `redis-cli -h 127.0.0.N -p PORT arguments…`, with `input` on its standard input.
    static func redisCLI(_ node: Int, _ arguments: [String], input: String? = nil, port: Int = respPort) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-cli", "-h", "127.0.0.\(node)", "-p", String(port)] + arguments
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    static func cli(_ node: Int, _ arguments: String...) throws -> [String] {
        let output = try redisCLI(node, arguments)
        guard output.status == 0 else { throw ClusterError(message: "redis-cli \(arguments) exited \(output.status): \(output.stderr)") }
        return output.lines
    }

    @Test func redisCLIAgainstAThreeNodeCluster() async throws {
        guard (try? Self.redisCLI(1, ["--version"]))?.status == 0 else {
            Issue.record("redis-cli is not installed: ./Scripts/setup.sh installs redis-tools")
            return
        }
        let cluster = try LocalCluster(name: "resp", internodePort: 29_110, httpPort: 29_120)
        defer { cluster.stopAll() }
        for node in 1...3 {
            try cluster.start(node, environment: ["CAIRN_RESP": "127.0.0.\(node):\(Self.respPort)"])
        }
        try cluster.waitForRing(members: 3, nodes: [1, 2, 3])
        for node in 1...3 {
            try cluster.waitUntil("node \(node) answers PING on its Redis port", timeout: 10) {
                (try? Self.cli(node, "PING")) == ["PONG"]
            }
        }

        do {
            // Plain strings, read back through every other node.
            #expect(try Self.cli(1, "SET", "greeting", "hello") == ["OK"])
            for node in 1...3 { #expect(try Self.cli(node, "GET", "greeting") == ["hello"]) }
            #expect(try Self.cli(2, "DEL", "greeting", "never-written") == ["1"])
            #expect(try Self.cli(3, "GET", "greeting") == [""])
            #expect(try Self.cli(3, "EXISTS", "greeting") == ["0"])

            // Time to live: set on one node, seen and changed through the others.
            #expect(try Self.cli(1, "SET", "session", "abc", "EX", "100") == ["OK"])
            let ttl = Int(try Self.cli(2, "TTL", "session").first ?? "") ?? -99
            #expect((95...100).contains(ttl), "TTL \(ttl)")
            #expect(try Self.cli(3, "EXPIRE", "session", "5000") == ["1"])
            let longer = Int(try Self.cli(1, "TTL", "session").first ?? "") ?? -99
            #expect((4995...5000).contains(longer), "TTL \(longer)")
            #expect(try Self.cli(2, "PERSIST", "session") == ["1"])
            #expect(try Self.cli(3, "TTL", "session") == ["-1"])
            #expect(try Self.cli(1, "PEXPIRE", "session", "300") == ["1"])
            try cluster.waitUntil("the session expires", timeout: 5) { (try? Self.cli(2, "GET", "session")) == [""] }
            #expect(try Self.cli(3, "TTL", "session") == ["-2"])

            // SCAN covers the whole cluster through any node, with redis-cli's own --scan.
            var pairs: [String] = []
            for index in 0..<40 { pairs += ["user:\(index)", "name-\(index)"] }
            #expect(try Self.redisCLI(1, ["MSET"] + pairs).lines == ["OK"])
            #expect(try Self.cli(2, "SET", "other", "x") == ["OK"])
            let scanned = try Self.cli(3, "--scan", "--pattern", "user:*")
            #expect(scanned.sorted() == (0..<40).map { "user:\($0)" }.sorted())
            let everything = try Self.cli(2, "--scan")
            #expect(Set(everything).isSuperset(of: Set(scanned + ["other"])))
            #expect(try Self.cli(1, "MGET", "user:1", "nope", "user:2") == ["name-1", "", "name-2"])
            let refused = try Self.cli(1, "SCAN", "0", "MATCH", "*user")
            #expect(refused.first?.hasPrefix("ERR Cairn scans by prefix") == true, "\(refused)")

            // NX and XX by compare-and-set, across nodes; the key can still be deleted with DEL.
            #expect(try Self.cli(1, "SET", "lock", "owner-1", "NX") == ["OK"])
            #expect(try Self.cli(2, "SET", "lock", "owner-2", "NX") == [""])
            #expect(try Self.cli(3, "GET", "lock") == ["owner-1"])
            #expect(try Self.cli(2, "SET", "lock", "owner-3", "XX") == ["OK"])
            #expect(try Self.cli(1, "GET", "lock") == ["owner-3"])
            #expect(try Self.cli(3, "DEL", "lock") == ["1"])
            #expect(try Self.cli(1, "SET", "lock", "owner-4", "NX") == ["OK"])
            #expect(try Self.cli(2, "SET", "missing", "x", "XX") == [""])
            #expect(try Self.cli(2, "CAIRN.CAS", "lock", "owner-4", "owner-5") == ["applied"])
            #expect(try Self.cli(3, "CAIRN.CAS", "lock", "owner-4", "owner-6") == ["failed", "owner-5"])

            // Siblings: two blind writes through two nodes; every node's GET shows the same one
            // of them, CAIRN.GETALL shows both, and a write with its context resolves them.
            _ = try Self.cli(1, "CAIRN.PUT", "cart", "apples", "")
            _ = try Self.cli(2, "CAIRN.PUT", "cart", "pears", "")
            let all = try Self.cli(3, "CAIRN.GETALL", "cart")
            #expect(all.count == 3 && Set(all.prefix(2)) == ["apples", "pears"], "\(all)")
            let shown = try Self.cli(1, "GET", "cart")
            #expect(shown == [all[1]])
            for node in 2...3 { #expect(try Self.cli(node, "GET", "cart") == shown) }
            _ = try Self.cli(2, "CAIRN.PUT", "cart", "apples and pears", all[2])
            #expect(try Self.cli(1, "CAIRN.GETALL", "cart").first == "apples and pears")

            // Many commands through one connection at once (redis-cli --pipe sends them all,
            // then counts the answers).
            let mass = (0..<2_000).map { "SET bulk:\($0) value-\($0)\r\n" }.joined()
            let piped = try Self.redisCLI(1, ["--pipe"], input: mass)
            #expect(piped.status == 0 && piped.stdout.contains("errors: 0, replies: 2000"), "\(piped.stdout) \(piped.stderr)")
            #expect(try Self.cli(3, "GET", "bulk:1999") == ["value-1999"])

            // The node's own view, in INFO.
            let info = try Self.cli(2, "INFO", "cluster").joined(separator: "\n")
            #expect(info.contains("cairn_members:3") && info.contains("cluster_enabled:0"), "\(info)")

            // An HTTP request sent to the Redis port is closed; the node goes on.
            let http = cluster.request("GET", 1, "/health")
            #expect(http.status == 200)
            let stray = Process()
            stray.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            stray.arguments = ["curl", "-s", "-m", "5", "--interface", LocalCluster.clientAddress, "-X", "POST",
                               "http://127.0.0.1:\(Self.respPort)/v1/keys/x", "-d", "x"]
            stray.standardOutput = Pipe()
            stray.standardError = Pipe()
            try stray.run()
            stray.waitUntilExit()
            #expect(try Self.cli(1, "PING") == ["PONG"])
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
    }
}
