import ArgumentParser

/// `cairn delete KEY`: deletes what a read returned.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a key.",
        discussion: """
            With --context, deletes exactly what the read that printed it returned. Without, it \
            first reads the key and deletes every sibling that read found (a delete without any \
            context would leave the stored values in place). A value written concurrently after \
            that read survives as a sibling. Exits 3 when the key has no value.
            """
    )

    @Argument(help: "The key (UTF-8 text).")
    var key: String

    @Option(help: ArgumentHelp("The context a read printed.", valueName: "token"))
    var context: String?

    @Option(name: [.customShort("w"), .long], help: "Replicas that must acknowledge (default: the cluster's W).")
    var w: Int?

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"key", "ok", "context"}`; `"ok": false` (exit 3) when the key had no value.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func validate() throws {
        _ = try keyBytes(key)
        if let w, w < 1 { throw ValidationError("-w must be at least 1") }
    }

    func run() async throws {
        let key = try keyBytes(key)
        // `found` false: the key had no value, nothing was written; else the tombstone's context.
        let (found, stored): (Bool, String?) = try await options.withClient { client in
            var context = self.context
            if context == nil {
                let read = try await client.get(key: key)
                guard !read.isAbsent else { return (false, nil) }
                context = read.context
            }
            return (true, try await client.delete(key: key, context: context, w: w))
        }
        if output.json {
            print(Output.writeJSON(key: key, ok: found, context: stored))
            if !found { throw ExitCode(ExitStatus.notFound) }
            return
        }
        guard found else {
            printError("cairn: \(Output.oneLine(key)): not found")
            throw ExitCode(ExitStatus.notFound)
        }
        print("ok")
    }
}
