import ArgumentParser
import CairnChaos
import Foundation

/// `cairn-chaos`: the workloads and checkers of `Chaos/run.sh` against a real cluster
/// (docs/reliability.md). `workload` runs the clients for a while and writes their history;
/// the scenario injects its faults meanwhile and heals them; `check` then waits for the
/// replicas to converge, reads everything once more, checks the history and draws the timeline.
@main
struct CairnChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-chaos",
        abstract: "Chaos workloads and checkers against a running Cairn cluster.",
        subcommands: [WorkloadCommand.self, CheckCommand.self]
    )
}

struct RunOptions: ParsableArguments {
    @Option(help: "The nodes' HTTP addresses, comma-separated (host:port).")
    var nodes: String

    @Option(help: "The run's directory: history.tsv, faults.tsv, report.txt, timeline.svg.")
    var out: String

    @Option(help: "Workloads, comma-separated: set, cas, plain, ttl.")
    var workloads = "set,cas,plain,ttl"

    @Option(help: "Keys per workload.")
    var keys = 3

    @Option(help: "Every key starts with this (default: chaos-<seed>-).")
    var prefix: String?

    @Option(help: "The seed of the clients' choices.")
    var seed: UInt64 = 1

    @Option(help: "The local address requests leave from (empty: the system's choice).")
    var bind = "127.0.0.100"

    var nodeList: [String] { nodes.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
    var keyPrefix: String { prefix ?? "chaos-\(seed)-" }
    var source: String? { bind.isEmpty ? nil : bind }

    func workloadList() throws -> [ChaosOp.Workload] {
        try workloads.split(separator: ",").map { name in
            guard let workload = ChaosOp.Workload(rawValue: String(name)) else {
                throw ValidationError("unknown workload '\(name)': set, cas, plain or ttl")
            }
            return workload
        }
    }

    func validate() throws {
        guard !nodeList.isEmpty else { throw ValidationError("--nodes names no node") }
        guard keys > 0 else { throw ValidationError("--keys must be positive") }
        _ = try workloadList()
    }
}

struct WorkloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workload", abstract: "Run the clients for --time seconds and write the history.")

    @OptionGroup var run: RunOptions

    @Option(help: "Seconds to run.")
    var time = 30

    @Option(help: "Clients per workload.")
    var clients = 2

    @Option(help: "A request's deadline in seconds; past it the outcome is unknown.")
    var timeout = 5

    func run() async throws {
        try FileManager.default.createDirectory(atPath: run.out, withIntermediateDirectories: true)
        // When the run began, on the wall clock, for the scenario's fault times.
        let startMilliseconds = Int((Date().timeIntervalSince1970 * 1000).rounded())
        try "\(startMilliseconds)\n".write(toFile: run.out + "/start-ms", atomically: true, encoding: .utf8)
        let workload = ChaosWorkload(options: ChaosWorkload.Options(
            nodes: run.nodeList, workloads: try run.workloadList(), clientsPerWorkload: clients, keysPerWorkload: run.keys,
            prefix: run.keyPrefix, duration: .seconds(time), sourceAddress: run.source, requestTimeout: .seconds(timeout),
            seed: run.seed))
        let ops = try await workload.run()
        let text = ([ChaosOp.header] + ops.map(\.line)).joined(separator: "\n") + "\n"
        try text.write(toFile: run.out + "/history.tsv", atomically: true, encoding: .utf8)
        print("workload: \(ops.count) operations in \(time) s, history in \(run.out)/history.tsv")
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "After healing: wait for convergence, read everything, check the history, draw the timeline.")

    @OptionGroup var run: RunOptions

    @Option(help: "N: how many primaries each key has.")
    var replicas = 3

    @Option(name: .customLong("converge-timeout"), help: "Seconds the replicas may take to converge.")
    var convergeTimeout = 120

    @Option(help: "A title for the report and the timeline.")
    var title = "chaos run"

    @Option(name: .customLong("clock-tolerance"), help: "Milliseconds by which clocks (and a write's duration) may blur a TTL's expiry.")
    var clockTolerance = 5_000

    func run() async throws {
        let text = try String(contentsOfFile: run.out + "/history.tsv", encoding: .utf8)
        let (ops, bad) = ChaosOp.parse(text)
        var options = ChaosCheck.Options(
            nodes: run.nodeList, prefix: run.keyPrefix, replicas: replicas, keysPerWorkload: run.keys,
            workloads: try run.workloadList(), convergeTimeout: .seconds(convergeTimeout), sourceAddress: run.source)
        options.clockToleranceMilliseconds = UInt64(max(0, clockTolerance))
        if let start = Self.startMilliseconds(in: run.out) {
            options.elapsed = { Date().timeIntervalSince1970 * 1_000 - start }
        }
        let check = ChaosCheck(options: options)
        var report = try await check.run(ops)
        if !bad.isEmpty { report.lines.insert("FAIL \(bad.count) lines of the history do not parse: \(bad[0])", at: 0); report.failed += 1 }
        let faults = Self.faults(in: run.out)
        let duration = ops.compactMap(\.end).max() ?? ops.map(\.start).max() ?? 0
        let svg = Timeline.svg(
            ops: ops.map { Timeline.Op(start: $0.start, end: $0.end, outcome: Self.timelineOutcome($0.outcome)) },
            faults: faults, duration: duration, title: title)
        try svg.write(toFile: run.out + "/timeline.svg", atomically: true, encoding: .utf8)
        var lines = ["== \(title)"] + report.lines.map { "  " + $0 }
        if !faults.isEmpty { lines.insert("faults: " + faults.map(\.label).joined(separator: "; "), at: 1) }
        lines.append("timeline: \(run.out)/timeline.svg")
        lines.append(report.summary)
        let output = lines.joined(separator: "\n") + "\n"
        try output.write(toFile: run.out + "/report.txt", atomically: true, encoding: .utf8)
        try (ChaosCheck.Report.summaryHeader + "\n" + report.summaryLine(ops) + "\n")
            .write(toFile: run.out + "/summary.tsv", atomically: true, encoding: .utf8)
        print(output, terminator: "")
        if report.failed > 0 { throw ExitCode(1) }
    }

    static func timelineOutcome(_ outcome: ChaosOp.Outcome) -> Timeline.Op.Outcome {
        switch outcome {
        case .ok: .ok
        case .failed: .failed
        case .unknown: .unknown
        }
    }

    /// When the workload began, on the wall clock (`start-ms`).
    static func startMilliseconds(in directory: String) -> Double? {
        (try? String(contentsOfFile: directory + "/start-ms", encoding: .utf8)).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// `faults.tsv`: `<start epoch ms>\t<end epoch ms or ->\t<label>` per fault, as the scenario
    /// wrote them; placed on the run's time axis by `start-ms`.
    static func faults(in directory: String) -> [Timeline.Fault] {
        guard let start = startMilliseconds(in: directory),
              let text = try? String(contentsOfFile: directory + "/faults.tsv", encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let from = Double(fields[0]) else { return nil }
            return Timeline.Fault(start: max(0, from - start), end: Double(fields[1]).map { max(0, $0 - start) }, label: String(fields[2]))
        }
    }
}
