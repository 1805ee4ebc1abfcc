import ArgumentParser

/// `cairn put KEY VALUE`: writes a value.
struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Write a value.",
        discussion: """
            Without --context the write replaces what the key holds: the node reads the key \
            from a read quorum and supersedes what it found (a value written concurrently stays \
            as a sibling). With the context a read printed, it supersedes exactly the siblings \
            that read returned. With --blind it supersedes nothing and becomes one more sibling \
            (Dynamo's blind write). Prints the new context.
            """
    )

    @Argument(help: "The key (UTF-8 text).")
    var key: String

    @OptionGroup var value: ValueOptions

    @OptionGroup var write: WriteOptions

    @Option(help: ArgumentHelp("The context a read printed: the write supersedes what that read returned.", valueName: "token"))
    var context: String?

    @Flag(help: "Supersede nothing: add the value as a sibling beside whatever the key holds.")
    var blind = false

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"key", "ok": true, "context"}`.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func validate() throws {
        _ = try keyBytes(key)
        if blind && context != nil { throw ValidationError("--blind supersedes nothing, so it takes no --context") }
    }

    func run() async throws {
        let key = try keyBytes(key)
        let bytes = try value.bytes()
        let stored = try await options.withClient { client in
            try await client.put(key: key, value: bytes, ttlSeconds: write.ttl, context: context, blind: blind, w: write.w)
        }
        if output.json {
            print(Output.writeJSON(key: key, context: stored))
            return
        }
        print("ok")
        if let stored { print("context: \(stored)") }
    }
}
