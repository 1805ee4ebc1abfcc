import ArgumentParser
import Foundation
import Logging

/// The `cairn` command-line tool: data commands and cluster admin against one node's HTTP API
/// (through CairnClient), and benchmarks.
///
/// Exit codes (docs/cli.md): 0 success, 1 an error (the node could not be reached, refused the
/// request or failed), 2 a usage error, 3 `get`/`delete`/`resolve` of a key with no value,
/// 4 a compare-and-set that was not applied.
@main
struct CairnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Command-line tool for the Cairn key-value store.",
        discussion: """
            Data and cluster commands talk to one node over HTTP: --node HOST:PORT, or the \
            CAIRN_NODE environment variable, or 127.0.0.1:7080. The global options (--node, \
            --timeout, --json) go before or after the command name: 'cairn --node H:P get k' and \
            'cairn get k --node H:P' are the same. Exit codes: 0 success, 1 error, 2 usage, \
            3 key not found, 4 compare-and-set not applied. Shell completions: \
            'cairn --generate-completion-script bash|zsh|fish' (docs/cli.md).
            """,
        subcommands: [
            PutCommand.self, GetCommand.self, DeleteCommand.self, ResolveCommand.self, ScanCommand.self,
            CASCommand.self, ClusterCommand.self, CertsCommand.self, BenchCommand.self,
        ]
    )

    /// The global options, accepted before the command name as well as after it.
    ///
    /// ArgumentParser lets the root command take its options anywhere on the line, and hands
    /// the value it decoded to every subcommand that declares the same `@OptionGroup` type, so
    /// `cairn --node H:P get k`, `cairn get k --node H:P` and `cairn cluster --node H:P status`
    /// all reach the command with the same `NodeOptions`, as users of `redis-cli -h`, `kubectl`
    /// or `git` expect.
    @OptionGroup(title: "Global options") var node: NodeOptions
    @OptionGroup(title: "Global options") var output: OutputOptions

    /// Runs the command the arguments name, and exits with the documented status: usage errors
    /// exit 2 (ArgumentParser's own default is 64), help and version 0.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let status = exitStatus(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if status == 0 {
                    print(message)
                } else {
                    printError(message)
                }
            }
            Foundation.exit(status)
        }
    }

    /// The process status for an error that ended a command.
    static func exitStatus(for error: any Error) -> Int32 {
        let code = exitCode(for: error)
        return code == .validationFailure ? ExitStatus.usage : code.rawValue
    }
}

/// The documented exit statuses.
enum ExitStatus {
    static let error: Int32 = 1
    static let usage: Int32 = 2
    static let notFound: Int32 = 3
    static let notApplied: Int32 = 4
}

/// Writes `message` and a newline to stderr.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Sends library logs to stderr at `level` (warnings and worse by default, so tool output
/// stays clean; `CAIRN_LOG_LEVEL=info` or `debug` shows more). Only executables bootstrap.
func bootstrapLogging(default level: Logger.Level = .warning) {
    let chosen = ProcessInfo.processInfo.environment["CAIRN_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? level
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = chosen
        return handler
    }
}
