import ArgumentParser

/// `cairn put KEY VALUE`: writes a value.
struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Write a value.",
        discussion: """
            Without --context the write is concurrent with whatever the key holds and becomes a \
            new sibling beside it; with the context a read printed, it supersedes exactly the \
            siblings that read returned. 'cairn resolve' reads and writes in one step.
            """
    )

    @Argument(help: "The key (UTF-8 text).")
    var key: String

    @OptionGroup var value: ValueOptions

    @OptionGroup var write: WriteOptions

    @Option(help: ArgumentHelp("The context a read printed: the write supersedes what that read returned.", valueName: "token"))
    var context: String?

    @OptionGroup var options: NodeOptions

    func validate() throws {
        _ = try keyBytes(key)
    }

    func run() async throws {
        let key = try keyBytes(key)
        let bytes = try value.bytes()
        try await options.withClient { client in
            try await client.put(key: key, value: bytes, ttlSeconds: write.ttl, context: context, w: write.w)
        }
        print("ok")
    }
}
