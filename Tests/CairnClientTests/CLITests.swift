import ArgumentParser
import CairnBench
import CairnClient
import CairnHTTP
import CairnHTTPTestSupport
import Foundation
import Testing

@testable import cairn

/// The CLI's argument parsing, exit statuses and output formats, as pure functions; and a few
/// commands run against a node on loopback.
@Suite struct CLIParsingTests {
    @Test func dataCommandsParseTheirArguments() throws {
        let put = try #require(try CairnCommand.parseAsRoot(["put", "user/1", "Ada", "--ttl", "60", "-w", "2", "--context", "AbC"]) as? PutCommand)
        #expect(put.key == "user/1")
        #expect(put.value.value == "Ada")
        #expect(put.write.ttl == 60)
        #expect(put.write.w == 2)
        #expect(put.context == "AbC")

        let fromFile = try #require(try CairnCommand.parseAsRoot(["put", "photo", "--value-file", "-"]) as? PutCommand)
        #expect(fromFile.value.value == nil)
        #expect(fromFile.value.valueFile == "-")

        let get = try #require(try CairnCommand.parseAsRoot(["get", "k", "-r", "1", "--json", "--node", "10.0.0.2:7080", "--timeout", "2.5"]) as? GetCommand)
        #expect(get.r == 1)
        #expect(get.output.json)
        #expect(get.options.node == "10.0.0.2:7080")
        #expect(get.options.timeout == 2.5)

        let scan = try #require(try CairnCommand.parseAsRoot(["scan", "--prefix", "user/", "--limit", "10", "--after", "user/5"]) as? ScanCommand)
        #expect(scan.prefix == "user/")
        #expect((try CairnCommand.parseAsRoot(["scan"]) as? ScanCommand)?.prefix == "")
        #expect(scan.limit == 10)
        #expect(scan.after == "user/5")

        let cas = try #require(try CairnCommand.parseAsRoot(["cas", "lock", "--absent", "owner-1"]) as? CASCommand)
        #expect(cas.absent)
        #expect(cas.expected == nil)
        #expect(cas.new == "owner-1")
        let swap = try #require(try CairnCommand.parseAsRoot(["cas", "lock", "--expected", "owner-1", "--delete"]) as? CASCommand)
        #expect(swap.expected == "owner-1")
        #expect(swap.delete)

        #expect(try CairnCommand.parseAsRoot(["resolve", "k", "v"]) is ResolveCommand)
        #expect((try CairnCommand.parseAsRoot(["delete", "k", "--context", "AbC"]) as? DeleteCommand)?.context == "AbC")
    }

    @Test func clusterCommandsParse() throws {
        #expect((try CairnCommand.parseAsRoot(["cluster", "status", "--json"]) as? ClusterStatusCommand)?.output.json == true)
        #expect(try #require(try CairnCommand.parseAsRoot(["cluster", "leave"]) as? ClusterLeaveCommand).node == nil)
        #expect((try CairnCommand.parseAsRoot(["cluster", "leave", "127.0.0.1:7081"]) as? ClusterLeaveCommand)?.node == "127.0.0.1:7081")
        #expect((try CairnCommand.parseAsRoot(["cluster", "remove", "n3"]) as? ClusterRemoveCommand)?.node == "n3")
        let cancel = try #require(try CairnCommand.parseAsRoot(["cluster", "transfers", "cancel", "12", "--to", "n3"]) as? ClusterTransfersCommand)
        #expect(cancel.action == "cancel" && cancel.value == 12 && cancel.to == "n3")
        #expect((try CairnCommand.parseAsRoot(["cluster", "transfers", "throttle", "8388608"]) as? ClusterTransfersCommand)?.value == 8_388_608)
        #expect(try CairnCommand.parseAsRoot(["bench", "engine", "--quick"]) is BenchEngineCommand)
    }

    static let usageErrors: [[String]] = [
        ["put", "k"],
        ["put", "k", "v", "--value-file", "f"],
        ["put", "", "v"],
        ["put", "k", "v", "--ttl", "0"],
        ["put", "k", "v", "-w", "0"],
        ["get"],
        ["get", "k", "--json", "--raw"],
        ["get", "k", "--timeout", "0"],
        ["get", "k", "--node", "no-port"],
        ["get", "k", "-r", "two"],
        ["scan", "--limit", "0"],
        ["scan", "--limit", "1001"],
        ["scan", "user/", "--prefix", "admin/"],
        ["scan", "a", "b"],
        ["--node", "no-port", "get", "k"],
        ["--timeout", "0", "cluster", "status"],
        ["get", "k", "--json", "--raw"],
        ["--json", "get", "k", "--raw"],
        ["cas", "k", "new"],
        ["cas", "k", "--absent", "--expected", "x", "new"],
        ["cas", "k", "--absent"],
        ["cas", "k", "--absent", "new", "--delete"],
        ["cluster", "remove"],
        ["cluster", "frobnicate"],
        ["cluster", "transfers", "throttle"],
        ["cluster", "transfers", "throttle", "100"],
        ["cluster", "transfers", "cancel"],
        ["cluster", "transfers", "pause", "3"],
        ["cluster", "transfers", "resume", "--to", "n2"],
        ["cluster", "transfers", "frobnicate"],
        ["cluster", "antientropy", "exchange"],
        ["cluster", "antientropy", "scrub", "3"],
        ["cluster", "antientropy", "exchange", "70000"],
        ["nonsense"],
    ]

    @Test(arguments: usageErrors)
    func usageErrorsExit2(_ arguments: [String]) {
        do {
            let command = try CairnCommand.parseAsRoot(arguments)
            Issue.record("parsed as \(command)")
        } catch {
            #expect(CairnCommand.exitStatus(for: error) == 2, "\(error)")
        }
    }

    @Test func exitStatusesAreTheDocumentedOnes() {
        #expect(CairnCommand.exitStatus(for: ExitCode(ExitStatus.notFound)) == 3)
        #expect(CairnCommand.exitStatus(for: ExitCode(ExitStatus.notApplied)) == 4)
        #expect(CairnCommand.exitStatus(for: ExitCode(ExitStatus.error)) == 1)
        #expect(CairnCommand.exitStatus(for: CleanExit.helpRequest()) == 0)
        #expect(CairnCommand.exitStatus(for: ValidationError("bad")) == 2)
    }

    /// The global options go before the command name as well as after it (`cairn --node H:P get
    /// k`, as `redis-cli -h` users type it), also between `cluster` and `status`.
    static let globalOptionPlacements: [[String]] = [
        ["--node", "10.0.0.2:7080", "--timeout", "2.5", "--json", "get", "k"],
        ["get", "k", "--node", "10.0.0.2:7080", "--timeout", "2.5", "--json"],
        ["--node", "10.0.0.2:7080", "get", "--json", "k", "--timeout", "2.5"],
        ["--node=10.0.0.2:7080", "--json", "cluster", "status", "--timeout", "2.5"],
        ["cluster", "--node", "10.0.0.2:7080", "--timeout", "2.5", "--json", "status"],
        ["cluster", "status", "--node", "10.0.0.2:7080", "--timeout", "2.5", "--json"],
        ["--timeout", "2.5", "--node", "10.0.0.2:7080", "--json", "scan", "user:"],
        ["--node", "10.0.0.2:7080", "--json", "--timeout", "2.5", "put", "k", "v", "-w", "1"],
        ["--json", "--node", "10.0.0.2:7080", "--timeout", "2.5", "cas", "k", "--absent", "v"],
        ["--node", "10.0.0.2:7080", "--timeout", "2.5", "--json", "cluster", "leave", "n2"],
        ["--node", "10.0.0.2:7080", "--timeout", "2.5", "--json", "bench", "requests", "--keys", "5"],
    ]

    @Test(arguments: globalOptionPlacements)
    func globalOptionsGoBeforeOrAfterTheCommand(_ arguments: [String]) throws {
        let command = try CairnCommand.parseAsRoot(arguments)
        let options = try #require(Self.nodeOptions(of: command), "\(type(of: command))")
        #expect(options.node == "10.0.0.2:7080")
        #expect(options.timeout == 2.5)
        let printing = try #require(command as? any PrintingCommand, "\(type(of: command)) takes no --json")
        #expect(printing.output.json)
    }

    static func nodeOptions(of command: any ParsableCommand) -> NodeOptions? {
        switch command {
        case let command as GetCommand: command.options
        case let command as PutCommand: command.options
        case let command as ScanCommand: command.options
        case let command as CASCommand: command.options
        case let command as ClusterStatusCommand: command.options
        case let command as ClusterLeaveCommand: command.options
        case let command as BenchRequestsCommand: command.options
        default: nil
        }
    }

    @Test func theParsedGlobalOptionsReachTheCommand() throws {
        let get = try #require(try CairnCommand.parseAsRoot(["--node", "10.0.0.2:7080", "--timeout", "2.5", "get", "k", "-r", "1"]) as? GetCommand)
        #expect(get.options.node == "10.0.0.2:7080")
        #expect(get.options.timeout == 2.5)
        #expect(get.key == "k")
        #expect(get.r == 1)
        let status = try #require(try CairnCommand.parseAsRoot(["cluster", "--node", "h:1", "status"]) as? ClusterStatusCommand)
        #expect(status.options.node == "h:1")
        #expect(!status.output.json)
        let leave = try #require(try CairnCommand.parseAsRoot(["--node", "h:1", "cluster", "leave", "n2"]) as? ClusterLeaveCommand)
        #expect(leave.options.node == "h:1")
        #expect(leave.node == "n2")
    }

    /// `--ca` before or after the command, else `CAIRN_CA`; a file that is no certificate is a
    /// usage error naming it.
    @Test func theCAComesFromTheFlagThenTheEnvironment() throws {
        let before = try #require(try CairnCommand.parseAsRoot(["--ca", "/etc/cairn/ca.crt", "get", "k"]) as? GetCommand)
        #expect(before.options.resolvedCA(environment: [:]) == "/etc/cairn/ca.crt")
        let after = try #require(try CairnCommand.parseAsRoot(["get", "k", "--ca", "/x/ca.crt"]) as? GetCommand)
        #expect(after.options.resolvedCA(environment: ["CAIRN_CA": "/env/ca.crt"]) == "/x/ca.crt")
        let none = try #require(try CairnCommand.parseAsRoot(["get", "k"]) as? GetCommand)
        #expect(none.options.resolvedCA(environment: ["CAIRN_CA": "/env/ca.crt"]) == "/env/ca.crt")
        #expect(none.options.resolvedCA(environment: ["CAIRN_CA": ""]) == nil)
        let missing = try #require(try CairnCommand.parseAsRoot(["get", "k", "--ca", "/nonexistent/ca.crt"]) as? GetCommand)
        #expect { try missing.options.tlsContext() } throws: { "\($0)".contains("/nonexistent/ca.crt") }
    }

    @Test func scanTakesThePrefixAsAnArgumentOrAnOption() throws {
        #expect((try CairnCommand.parseAsRoot(["scan", "user:"]) as? ScanCommand)?.prefix == "user:")
        #expect((try CairnCommand.parseAsRoot(["scan", "user:", "--limit", "5"]) as? ScanCommand)?.prefix == "user:")
        #expect((try CairnCommand.parseAsRoot(["scan", "--prefix", "user:"]) as? ScanCommand)?.prefix == "user:")
        #expect((try CairnCommand.parseAsRoot(["scan", "user:", "--prefix", "user:"]) as? ScanCommand)?.prefix == "user:")
        #expect((try CairnCommand.parseAsRoot(["--node", "h:1", "scan", "user:"]) as? ScanCommand)?.prefix == "user:")
    }

    /// Every command that prints something takes `--json`, after its name or before it.
    static let printingCommands: [[String]] = [
        ["put", "k", "v"], ["get", "k"], ["delete", "k"], ["resolve", "k", "v"], ["scan"], ["cas", "k", "--absent", "v"],
        ["cluster", "status"], ["cluster", "leave"], ["cluster", "remove", "n2"], ["cluster", "transfers"],
        ["cluster", "transfers", "pause"], ["cluster", "transfers", "cancel", "3", "--to", "n2"],
        ["cluster", "antientropy", "rebuild-tree", "3"],
        ["bench", "engine"], ["bench", "requests"], ["bench", "scan"], ["bench", "cas"], ["bench", "load"],
    ]

    @Test(arguments: printingCommands)
    func everyPrintingCommandTakesJSON(_ arguments: [String]) throws {
        for line in [arguments + ["--json"], ["--json"] + arguments] {
            let command = try CairnCommand.parseAsRoot(line)
            let printing = try #require(command as? any PrintingCommand, "\(type(of: command)) takes no --json")
            #expect(printing.output.json, "\(line)")
        }
        let plain = try #require(try CairnCommand.parseAsRoot(arguments) as? any PrintingCommand)
        #expect(!plain.output.json)
    }

    /// `cairn --generate-completion-script SHELL` prints the script and exits 0 through the
    /// CLI's own `main` (which maps errors to exit statuses).
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsAreGenerated(_ shell: String) {
        do {
            let command = try CairnCommand.parseAsRoot(["--generate-completion-script", shell])
            Issue.record("parsed as \(command)")
        } catch {
            #expect(CairnCommand.exitStatus(for: error) == 0)
            let script = CairnCommand.fullMessage(for: error)
            // fish names options without their dashes (`-l 'node'`).
            for word in ["cairn", "node", "timeout", "json", "scan", "cluster", "status"] {
                #expect(script.contains(word), "\(shell) script lacks \(word)")
            }
        }
    }

    @Test func theNodeComesFromTheFlagThenTheEnvironmentThenTheDefault() throws {
        let flagged = try #require(try CairnCommand.parseAsRoot(["get", "k", "--node", "a:1"]) as? GetCommand)
        #expect(flagged.options.resolvedNode(environment: ["CAIRN_NODE": "b:2"]) == "a:1")
        let plain = try #require(try CairnCommand.parseAsRoot(["get", "k"]) as? GetCommand)
        #expect(plain.options.resolvedNode(environment: ["CAIRN_NODE": "b:2"]) == "b:2")
        #expect(plain.options.resolvedNode(environment: ["CAIRN_NODE": ""]) == "127.0.0.1:7080")
        #expect(plain.options.resolvedNode(environment: [:]) == "127.0.0.1:7080")
    }
}

@Suite struct CLIOutputTests {
    @Test func aReadPrintsTheValueOrEverySiblingThenTheContext() {
        #expect(Output.read(CairnClient.Read(siblings: ["Ada".bytes], context: "CTX")) == "Ada\ncontext: CTX")
        #expect(Output.read(CairnClient.Read(siblings: ["two\nlines".bytes], context: nil)) == "two\nlines")
        let siblings = CairnClient.Read(siblings: ["ann".bytes, "b\tob\n".bytes, [0xFF, 0], "a\\b\u{1b}".bytes], context: "CTX")
        #expect(Output.read(siblings) == """
            4 siblings:
              1) ann
              2) b\\tob\\n
              3) base64:/wA=
              4) a\\\\b\\u{1b}
            context: CTX
            """)
        #expect(Output.read(CairnClient.Read(siblings: [], context: "CTX")) == "")
        #expect(Output.value([0xC3, 0x28]) == "base64:wyg=")
    }

    @Test func aReadAsJSONUsesTheAPIShapes() throws {
        let json = Output.readJSON(key: "k".bytes, CairnClient.Read(siblings: ["a".bytes, [0xFF]], context: "CTX"))
        #expect(try JSONParser.parse(Array(json.utf8)) == ["key": "k", "siblings": [["value": "a"], ["value_base64": "/w=="]], "context": "CTX"])
        let absent = Output.readJSON(key: [0xFF], CairnClient.Read(siblings: [], context: nil))
        #expect(absent == #"{"context":null,"key_base64":"/w==","siblings":[]}"#)
    }

    @Test func scanPagesPrintKeysAndHowToContinue() throws {
        let page = CairnClient.KeyPage(keys: ["a/1".bytes, "a/it's".bytes], next: "a/it's".bytes)
        #expect(Output.keys(page) == "a/1\na/it's")
        #expect(Output.moreKeys(page) == #"more keys remain; continue with --after 'a/it'\''s'"#)
        #expect(Output.moreKeys(CairnClient.KeyPage(keys: [], next: nil)) == nil)
        #expect(try JSONParser.parse(Array(Output.keysJSON(page).utf8)) == ["keys": [["key": "a/1"], ["key": "a/it's"]], "next": ["key": "a/it's"]])
    }

    @Test func casOutcomesRead() {
        #expect(Output.cas(.applied) == "applied")
        #expect(Output.cas(.failed(current: nil)) == "not applied: the key has no value")
        #expect(Output.cas(.failed(current: "owner-1".bytes)) == "not applied: the current value is owner-1")
    }

    @Test func clusterStatusShowsMembersRingTransfersAndTheRest() throws {
        let body = #"""
            {"node":"n1","ring":{"version":7,"partitions":64,"n":3},
             "members":[{"node":"n1","address":"127.0.0.1:7080","status":"valid","reachable":true,"partitions":22},
                        {"node":"n2","address":"127.0.0.1:7081","status":"leaving","reachable":false,"partitions":21,"zone":"b"},
                        {"address":"127.0.0.1:7082"}],
             "transfers":[{"to":"n3","from":"n2","partition":12,"state":"sending","sent_keys":1200}],
             "cluster":"prod"}
            """#
        let status = try ClusterStatus(raw: Array(body.utf8))
        #expect(Output.clusterStatus(status, via: "127.0.0.1:7080") == """
            cluster as seen by n1 (127.0.0.1:7080)
            ring: version=7 partitions=64 n=3

            NODE  ADDRESS         STATUS   REACHABLE  PARTITIONS  OTHER
            n1 *  127.0.0.1:7080  valid    yes        22
            n2    127.0.0.1:7081  leaving  no         21          zone=b
            -     127.0.0.1:7082  -        -          -

            transfers (1):
              partition=12 from=n2 to=n3 state=sending sent_keys=1200
            cluster: "prod"
            """)
        let bare = try ClusterStatus(raw: Array("{}".utf8))
        #expect(Output.clusterStatus(bare, via: "h:1") == "cluster as seen by the node (h:1)\n\nmembers: none reported\n\ntransfers: none")
    }

    @Test func writesCASAndMembershipChangesPrintJSON() throws {
        func parsed(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }
        #expect(try parsed(Output.writeJSON(key: "k".bytes, context: "CTX")) == ["key": "k", "ok": true, "context": "CTX"])
        #expect(try parsed(Output.writeJSON(key: [0xFF], ok: false, context: nil)) == ["key_base64": "/w==", "ok": false, "context": nil])
        #expect(try parsed(Output.writeJSON(key: "k".bytes, context: "CTX", extra: ["superseded": 2]))
                == ["key": "k", "ok": true, "context": "CTX", "superseded": 2])
        #expect(Output.casJSON(key: "lock".bytes, .applied) == #"{"applied":true,"key":"lock"}"#)
        #expect(try parsed(Output.casJSON(key: "lock".bytes, .failed(current: "owner-1".bytes)))
                == ["key": "lock", "applied": false, "current": ["value": "owner-1"]])
        #expect(try parsed(Output.casJSON(key: "lock".bytes, .failed(current: nil))) == ["key": "lock", "applied": false, "current": nil])
        #expect(try parsed(Output.casJSON(key: "lock".bytes, .siblings(["a".bytes, [0xFF]])))
                == ["key": "lock", "applied": false, "current": nil, "siblings": [["value": "a"], ["value_base64": "/w=="]]])
        #expect(Output.membershipJSON(node: "127.0.0.1:7082", status: "leaving") == #"{"node":"127.0.0.1:7082","ok":true,"status":"leaving"}"#)
    }

    @Test func benchLoadParsesItsOptionsAndRefusesWhatCannotRun() throws {
        let load = try #require(try CairnCommand.parseAsRoot([
            "bench", "load", "--workload", "get", "--keys", "500", "--distribution", "zipfian", "--zipf-exponent", "1.2",
            "--rate", "2000", "--duration", "5", "--concurrency", "32", "--nodes", "127.0.0.1:7080,127.0.0.2:7080",
            "--source-address", "127.0.0.100", "--no-preload", "--hgrm", "out.hgrm", "--plot", "out.svg", "--seed", "7",
        ]) as? BenchLoadCommand)
        #expect(load.workload == "get" && load.keys == 500 && load.rate == 2000 && load.duration == 5 && load.concurrency == 32)
        #expect(load.preload == false && load.hgrm == "out.hgrm" && load.plot == "out.svg" && load.seed == 7)
        #expect(try CairnCommand.parseAsRoot(["bench", "load"]) is BenchLoadCommand)
        #expect((try CairnCommand.parseAsRoot(["bench", "load", "--preload"]) as? BenchLoadCommand)?.preload == true)
        for refused in [
            ["--workload", "delete"], ["--distribution", "pareto"], ["--transport", "grpc"], ["--concurrency", "0"],
            ["--keys", "0"], ["--rate", "0"], ["--duration", "0"], ["--operations", "0"], ["--get-percent", "101"],
            ["--transport", "resp", "--workload", "cas"], ["--transport", "resp", "--workload", "scan"], ["--nodes", "nohost"],
            ["--seed", "9007199254740992"], ["--zipf-exponent", "0"],
        ] {
            #expect(throws: (any Error).self, "\(refused)") { try CairnCommand.parseAsRoot(["bench", "load"] + refused) }
        }
        let plot = try #require(try CairnCommand.parseAsRoot(["bench", "plot", "a.hgrm", "b.hgrm", "-o", "x.svg", "--names", "A,B"]) as? BenchPlotCommand)
        #expect(plot.files == ["a.hgrm", "b.hgrm"] && plot.output == "x.svg")
        #expect(throws: (any Error).self) { try CairnCommand.parseAsRoot(["bench", "plot", "a.hgrm", "-o", "x.svg", "--names", "A,B"]) }
    }

    @Test func benchLatenciesPrintAsMillisecondsToTheMicrosecond() throws {
        var recorder = LatencyRecorder()
        for nanoseconds: UInt64 in [1_234_567, 2_000_000, 3_500_100] { recorder.record(nanoseconds: nanoseconds) }
        let json = Output.latencyJSON(recorder, adding: ["kind": "GET"])
        #expect(json["count"] == 3)
        #expect(json["kind"] == "GET")
        for name in ["p50_ms", "p90_ms", "p99_ms", "max_ms"] {
            guard case .number(let milliseconds)? = json[name] else { Issue.record("\(name) missing: \(json)"); continue }
            #expect(milliseconds > 1 && milliseconds < 3.6, "\(name) \(milliseconds)")
            #expect(abs((milliseconds * 1000).rounded() - milliseconds * 1000) < 1e-6, "\(name) \(milliseconds) is not whole microseconds")
        }
    }

    @Test func clusterStatusShowsTheNodesWarningsUnderTheRing() throws {
        let body = #"""
            {"node":"n1","ring":{"version":1,"partitions":64,"n":3,"members":1},
             "members":[{"node":"n1","address":"127.0.0.1:7070","status":"valid","reachable":true,"partitions":64}],
             "transfers":[],
             "warnings":["replication is below N: the ring has 1 member but N=3"]}
            """#
        let status = try ClusterStatus(raw: Array(body.utf8))
        #expect(Output.clusterStatus(status, via: "127.0.0.1:7080") == """
            cluster as seen by n1 (127.0.0.1:7080)
            ring: version=1 partitions=64 n=3 members=1
            warning: replication is below N: the ring has 1 member but N=3

            NODE  ADDRESS         STATUS  REACHABLE  PARTITIONS
            n1 *  127.0.0.1:7070  valid   yes        64

            transfers: none
            """)
    }

    @Test func shellQuotingSurvivesQuotes() {
        #expect(shellQuoted("plain") == "'plain'")
        #expect(shellQuoted("it's") == #"'it'\''s'"#)
    }

    @Test func resolveSaysWhatItReplaced() {
        #expect(ResolveCommand.summary(superseded: 0) == "ok (the key had no value)")
        #expect(ResolveCommand.summary(superseded: 3) == "ok (resolved 3 siblings into one value)")
    }
}

/// Commands run against a node on loopback (their stdout goes to the test log).
@Suite struct CLICommandTests {
    func run(_ arguments: [String]) async throws {
        var command = try #require(try CairnCommand.parseAsRoot(arguments) as? any AsyncParsableCommand)
        try await command.run()
    }

    @Test func resolveAndDeleteWithoutAContextSupersedeEverySibling() async throws {
        try await withNode { client, _ in
            let node = client.node
            try await self.run(["put", "k", "a", "--node", node])
            try await self.run(["put", "k", "b", "--blind", "--node", node])
            #expect(try await client.get(key: "k".bytes).siblings.count == 2)
            try await self.run(["resolve", "k", "c", "--node", node])
            #expect(try await client.get(key: "k".bytes).siblings == ["c".bytes])

            try await client.put(key: "k".bytes, value: "d".bytes)
            try await self.run(["delete", "k", "--node", node])
            #expect(try await client.get(key: "k".bytes).isAbsent)
        }
    }

    @Test func absentKeysExit3AndAFailedCASExits4() async throws {
        try await withNode(InMemoryKeyValueService()) { client, _ in
            let node = client.node
            await #expect(throws: ExitCode(ExitStatus.notFound)) { try await self.run(["get", "nothing", "--node", node]) }
            await #expect(throws: ExitCode(ExitStatus.notFound)) { try await self.run(["delete", "nothing", "--node", node]) }
            try await self.run(["cas", "lock", "--absent", "me", "--node", node])
            await #expect(throws: ExitCode(ExitStatus.notApplied)) { try await self.run(["cas", "lock", "--absent", "you", "--node", node]) }
            #expect(try await client.get(key: "lock".bytes).value == "me".bytes)
        }
    }

    @Test func anUnreachableNodeExits1() async throws {
        let port = try await closedPort()
        await #expect(throws: ExitCode(ExitStatus.error)) {
            try await self.run(["cluster", "status", "--node", "127.0.0.1:\(port)", "--timeout", "2"])
        }
    }
}

/// docs/cli.md has a section for every command the CLI has.
@Suite struct CLIDocsTests {
    @Test func everyCommandHasASection() throws {
        let path = String(#filePath.split(separator: "/Tests/", maxSplits: 1)[0]) + "/docs/cli.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let leaves = [
            "cairn " + (PutCommand.configuration.commandName ?? "?"),
            "cairn " + (GetCommand.configuration.commandName ?? "?"),
            "cairn " + (DeleteCommand.configuration.commandName ?? "?"),
            "cairn " + (ResolveCommand.configuration.commandName ?? "?"),
            "cairn " + (ScanCommand.configuration.commandName ?? "?"),
            "cairn " + (CASCommand.configuration.commandName ?? "?"),
            "cairn cluster " + (ClusterStatusCommand.configuration.commandName ?? "?"),
            "cairn cluster " + (ClusterLeaveCommand.configuration.commandName ?? "?"),
            "cairn cluster " + (ClusterRemoveCommand.configuration.commandName ?? "?"),
            "cairn certs " + (CertsCommand.CreateCA.configuration.commandName ?? "?"),
            "cairn certs " + (CertsCommand.CreateNode.configuration.commandName ?? "?"),
        ]
        for name in leaves {
            #expect(text.contains("### `\(name) ") || text.contains("### `\(name)`"), "\(name) missing from docs/cli.md")
        }
        let subcommands = CairnCommand.configuration.subcommands.map { command in command.configuration.commandName ?? "?" }
        #expect(subcommands == ["put", "get", "delete", "resolve", "scan", "cas", "cluster", "certs", "bench"])
    }
}
