import ArgumentParser
import Foundation

/// `cairn get KEY`: reads every sibling and the context.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Read a key: its value, or every sibling, and the context.",
        discussion: """
            Prints the value (or "N siblings:" and each, one per line, escaped), then \
            "context: TOKEN". Pass the token to 'put --context' or 'delete --context' to \
            supersede what was read. A value that is not UTF-8 prints as base64:... ; use --raw \
            for its bytes or --json. Exits 3 when the key has no value.
            """
    )

    @Argument(help: "The key (UTF-8 text).")
    var key: String

    @Option(name: [.customShort("r"), .long], help: "Replicas that must answer (default: the cluster's R).")
    var r: Int?

    @Flag(help: "Write the value's bytes to stdout exactly, nothing else (fails on siblings).")
    var raw = false

    @Flag(help: "A linearizable read through Paxos (sees every CAS applied before it); not with -r.")
    var serial = false

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"key", "siblings": [{"value"|"value_base64"}], "context"}`.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func validate() throws {
        _ = try keyBytes(key)
        if let r, r < 1 { throw ValidationError("-r must be at least 1") }
        if output.json && raw { throw ValidationError("--json and --raw exclude each other") }
        if serial && r != nil { throw ValidationError("--serial takes no -r") }
    }

    func run() async throws {
        let key = try keyBytes(key)
        let read = try await options.withClient { client in
            serial ? try await client.serialGet(key: key) : try await client.get(key: key, r: r)
        }
        if output.json {
            print(Output.readJSON(key: key, read))
            if read.isAbsent { throw ExitCode(ExitStatus.notFound) }
            return
        }
        if read.isAbsent {
            printError("cairn: \(Output.oneLine(key)): not found")
            throw ExitCode(ExitStatus.notFound)
        }
        if raw {
            guard let value = read.value else {
                printError("cairn: \(Output.oneLine(key)) has \(read.siblings.count) siblings; use --json or resolve them")
                throw ExitCode(ExitStatus.error)
            }
            FileHandle.standardOutput.write(Data(value))
            return
        }
        print(Output.read(read))
    }
}
