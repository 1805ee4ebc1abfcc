import ArgumentParser
import CairnBench
import Foundation

/// `cairn bench engine`: Cairn's storage engine against LMDB and RocksDB, same workloads.
struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Benchmark Cairn's storage engine against LMDB and RocksDB.",
        discussion: """
            Runs random puts under each durability policy, random gets, a 90/10 get/put mix on \
            1 and 16 threads, 1 vs 16 writers under fsync-per-write, prefix scans, and the \
            Cairn-only open-time, merge and keydir-memory measurements. Progress goes to stderr; \
            the table (or JSON with --json) goes to stdout.
            """
    )

    @Flag(help: "Smaller stores and shorter phases (same rows; well under two minutes).")
    var quick = false

    /// `--json`: a JSON array of rows instead of the table.
    @OptionGroup(title: "Global options") var output: OutputOptions

    @Option(help: "Directory under which a scratch directory is created (default: the system temp dir).")
    var dir: String?

    @Option(help: ArgumentHelp(
        "Run only these workload groups (comma-separated).",
        valueName: WorkloadGroup.allCases.map(\.rawValue).joined(separator: ",")))
    var only: String?

    @Option(help: ArgumentHelp(
        "Run only these engines (comma-separated).",
        valueName: EngineKind.allCases.map(\.rawValue).joined(separator: ",")))
    var engines: String?

    func validate() throws {
        _ = try selectedGroups()
        _ = try selectedEngines()
    }

    func run() throws {
        bootstrapLogging()
        var config = EngineBenchConfig(quick: quick, parentDirectory: dir)
        config.groups = try selectedGroups()
        config.engines = try selectedEngines()
        let benchmark = try EngineBenchmark(config: config) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        let environment = try benchmark.environment()
        let header = environment.map { "\($0.0): \($0.1)" }.joined(separator: ", ")
        FileHandle.standardError.write(Data((header + "\n").utf8))
        let rows = try benchmark.run()
        if output.json {
            print(try Report.json(rows))
        } else {
            print(header)
            print(Report.table(rows))
        }
    }

    private func selectedGroups() throws -> [WorkloadGroup] { try Self.parseList(only, naming: "workload group") }

    private func selectedEngines() throws -> [EngineKind] { try Self.parseList(engines, naming: "engine") }

    /// A comma-separated list of case names (all cases when absent), or a clear error.
    private static func parseList<T: RawRepresentable & CaseIterable>(_ text: String?, naming what: String) throws -> [T]
    where T.RawValue == String {
        guard let text else { return Array(T.allCases) }
        return try text.split(separator: ",").map { name in
            guard let value = T(rawValue: String(name)) else {
                throw ValidationError("unknown \(what) '\(name)'; expected one of "
                    + T.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return value
        }
    }
}
