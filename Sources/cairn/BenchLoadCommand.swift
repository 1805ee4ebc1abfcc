import ArgumentParser
import CairnClient
import CairnHTTP
import CairnLoad
import Foundation
import Synchronization

/// `cairn bench load`: drives a cluster with a workload (get, put, mixed, cas, scan) over HTTP
/// or the Redis protocol, closed loop or open loop at a target rate, and reports throughput and
/// latency percentiles, optionally as an HdrHistogram percentile file and an SVG plot.
struct BenchLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive the cluster with a workload; report ops/s and latency percentiles.",
        discussion: """
            --concurrency workers, each with its own connection, spread over --nodes, send \
            --workload requests for --duration seconds (or --operations requests). Without \
            --rate each worker sends its next request when the last is answered (closed loop). \
            With --rate R the run is open loop: operation i is due at i/R s and its latency \
            counts from then, so a stall delays every request due meanwhile instead of hiding \
            them (coordinated omission). get, mixed and scan write every key first (--preload). \
            A progress line goes to stderr each second; the table (or --json) to stdout; \
            --hgrm writes the HdrHistogram percentile file and --plot an SVG of it. \
            docs/benchmarks.md explains each figure.
            """
    )

    @Option(help: ArgumentHelp("get, put, mixed, cas or scan.", valueName: "workload"))
    var workload = "mixed"

    @Option(help: "mixed: percentage of gets (the rest are puts).")
    var getPercent = 90

    @Option(help: "Distinct keys (1...10000000).")
    var keys = 10_000

    @Option(help: "Size of each written value in bytes.")
    var valueBytes = 100

    @Option(help: ArgumentHelp("Key choice: uniform or zipfian.", valueName: "uniform|zipfian"))
    var distribution = "uniform"

    @Option(help: "zipfian: the exponent s of 1/k^s (YCSB's 0.99).")
    var zipfExponent = KeyDistribution.defaultZipfExponent

    @Option(help: "Workers: connections, and requests in flight at most.")
    var concurrency = 16

    @Option(help: ArgumentHelp("Seconds to send for (default 10 unless --operations).", valueName: "seconds"))
    var duration: Double?

    @Option(help: "Stop after this many operations.")
    var operations: UInt64?

    @Option(help: ArgumentHelp("Target operations per second: an open-loop run (default: closed loop).", valueName: "ops/s"))
    var rate: UInt64?

    @Option(help: ArgumentHelp("http, or resp for a node's Redis port (cairnd --resp; get, put, mixed).", valueName: "http|resp"))
    var transport = "http"

    @Option(help: ArgumentHelp("Nodes to spread the workers over, comma-separated host:port (default: --node).", valueName: "nodes"))
    var nodes: String?

    @Flag(inversion: .prefixedNo, help: "Write every key before the run (default: for get, mixed and scan).")
    var preload: Bool?

    @Option(help: "Keys start with this.")
    var keyPrefix = "bench/"

    @Option(help: "scan: keys per scan (1...1000).")
    var scanLimit = 10

    @Option(help: "Seed of the workers' choices, 0...2^53-1 (default: random).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Write the latency's HdrHistogram percentile distribution (.hgrm text) here.", valueName: "path"))
    var hgrm: String?

    @Option(help: ArgumentHelp("Write an SVG plot of latency by percentile here.", valueName: "path"))
    var plot: String?

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `LoadReport.json` — the settings, `completed`, `ops_per_second`, `latency` and
    /// `service_time` (`count`, `p50_ms`, `p90_ms`, `p99_ms`, `p99_9_ms`, `max_ms`, `mean_ms`),
    /// `operations` (the same per kind, with `ops_per_second` and `errors`), `errors` by label,
    /// `unsent`.
    @OptionGroup(title: "Global options") var output: OutputOptions

    /// The largest seed: every seed is a whole number JSON readers keep exactly (2^53 - 1).
    static let maxSeed: UInt64 = (1 << 53) - 1

    func validate() throws {
        _ = try workloadKind()
        _ = try keyDistribution()
        _ = try nodeAddresses()
        guard ["http", "resp"].contains(transport) else { throw ValidationError("--transport must be http or resp") }
        guard (0...100).contains(getPercent) else { throw ValidationError("--get-percent must be in 0...100") }
        guard (1...Workload.maxKeyCount).contains(keys) else { throw ValidationError("--keys must be in 1...\(Workload.maxKeyCount)") }
        guard (0...(4 << 20)).contains(valueBytes) else { throw ValidationError("--value-bytes must be in 0...4194304") }
        guard zipfExponent > 0, zipfExponent <= 100 else { throw ValidationError("--zipf-exponent must be in (0, 100]") }
        guard (1...LoadPlan.maxConcurrency).contains(concurrency) else {
            throw ValidationError("--concurrency must be in 1...\(LoadPlan.maxConcurrency)")
        }
        if let duration, !(duration > 0 && duration <= 86_400) { throw ValidationError("--duration must be in (0, 86400] seconds") }
        if let operations, operations == 0 { throw ValidationError("--operations must be at least 1") }
        if let rate, !(1...10_000_000).contains(rate) { throw ValidationError("--rate must be in 1...10000000 operations per second") }
        if let seed, seed > Self.maxSeed { throw ValidationError("--seed must be in 0...\(Self.maxSeed)") }
        guard (1...1000).contains(scanLimit) else { throw ValidationError("--scan-limit must be in 1...1000") }
        guard !keyPrefix.isEmpty, keyPrefix.utf8.count <= 512 else { throw ValidationError("--key-prefix must be 1 to 512 bytes") }
        if transport == "resp", try workloadKind() == .cas || workloadKind() == .scan {
            throw ValidationError("--transport resp runs the get, put and mixed workloads (Redis has no CAS or scan of the same meaning)")
        }
    }

    func run() async throws {
        let workload = Workload(
            kind: try workloadKind(), keyCount: keys, valueBytes: valueBytes, distribution: try keyDistribution(),
            getPercent: getPercent, scanLimit: scanLimit, keyPrefix: keyPrefix)
        let plan = LoadPlan(
            workload: workload, nodes: try nodeAddresses(), concurrency: concurrency,
            duration: (duration ?? (operations == nil ? 10 : nil)).map { .milliseconds(Int64(($0 * 1000).rounded())) },
            operations: operations, rate: rate, seed: seed ?? UInt64.random(in: 0...Self.maxSeed))
        let timeout = Duration.milliseconds(Int64((options.timeout * 1000).rounded(.up)))
        let loadTransport: any LoadTransport = transport == "resp"
            ? RESPLoadTransport(timeout: timeout, sourceAddress: options.resolvedSourceAddress)
            : HTTPLoadTransport(timeout: timeout, sourceAddress: options.resolvedSourceAddress, tls: try options.tlsContext())
        let runner = LoadRunner(plan: plan, transport: loadTransport)
        let progress = ProgressLine(enabled: !quiet)
        do {
            try await runner.check()
        } catch let error as LoadError {
            printError("cairn: \(error)")
            throw ExitCode(ExitStatus.error)
        }
        var preloaded: Duration?
        if preload ?? workload.preloadsByDefault {
            progress.note("preloading \(keys) keys…")
            do {
                preloaded = try await runner.preload { written, total in progress.show("preload: \(written)/\(total) keys") }
            } catch let error as LoadError {
                progress.finish()
                printError("cairn: \(error)")
                throw ExitCode(ExitStatus.error)
            }
            progress.finish()
        }
        let result = try await runner.run { progress.show($0.line) }
        progress.finish()
        if let hgrm {
            try write(result.latency.percentileDistribution(), to: hgrm)
        }
        if let plot {
            try write(LoadReport.plot(result).svg(), to: plot)
        }
        if output.json {
            print(Output.render(LoadReport.json(result, preload: preloaded)))
        } else {
            print(LoadReport.table(result, preload: preloaded))
        }
        if result.completed == 0 && result.errorCount > 0 { throw ExitCode(ExitStatus.error) }
    }

    private func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            printError("cairn: cannot write \(path): \(error.localizedDescription)")
            throw ExitCode(ExitStatus.error)
        }
    }

    private func workloadKind() throws -> Workload.Kind {
        guard let kind = Workload.Kind(rawValue: workload) else {
            throw ValidationError("--workload must be one of " + Workload.Kind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return kind
    }

    private func keyDistribution() throws -> KeyDistribution {
        switch distribution {
        case "uniform": return .uniform
        case "zipfian", "zipf": return .zipfian(exponent: zipfExponent)
        default: throw ValidationError("--distribution must be uniform or zipfian")
        }
    }

    private func nodeAddresses() throws -> [NodeAddress] {
        let list = nodes?.split(separator: ",").map(String.init) ?? [options.resolvedNode(environment: ProcessInfo.processInfo.environment)]
        guard !list.isEmpty else { throw ValidationError("--nodes names no node") }
        return try list.map { text in
            guard let address = NodeAddress(parsing: text) else { throw ValidationError("'\(text)' is not host:port") }
            return address
        }
    }
}

/// The progress line on stderr: redrawn in place on a terminal, one line per update otherwise
/// (a log file keeps each).
final class ProgressLine: Sendable {
    let enabled: Bool
    let inPlace: Bool
    private let drawn = Atomic<Bool>(false)

    init(enabled: Bool) {
        self.enabled = enabled
        inPlace = isatty(STDERR_FILENO) != 0
    }

    func show(_ line: String) {
        guard enabled else { return }
        drawn.store(true, ordering: .relaxed)
        FileHandle.standardError.write(Data((inPlace ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func note(_ line: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Ends a line redrawn in place, keeping it on the screen.
    func finish() {
        guard enabled, inPlace, drawn.exchange(false, ordering: .relaxed) else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
