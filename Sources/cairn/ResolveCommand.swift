import ArgumentParser
import CairnHTTP

/// `cairn resolve KEY VALUE`: replaces every sibling with one value.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Replace a key's siblings with one value.",
        discussion: """
            Reads the key, then writes VALUE with the context of that read, so the write \
            supersedes every sibling the read returned (a sibling written after the read stays). \
            Works on a key with one value or none as well.
            """
    )

    @Argument(help: "The key (UTF-8 text).")
    var key: String

    @OptionGroup var value: ValueOptions

    @OptionGroup var write: WriteOptions

    @OptionGroup(title: "Global options") var options: NodeOptions

    /// `--json`: `{"key", "ok": true, "context", "superseded": siblings replaced}`.
    @OptionGroup(title: "Global options") var output: OutputOptions

    func validate() throws {
        _ = try keyBytes(key)
    }

    func run() async throws {
        let key = try keyBytes(key)
        let bytes = try value.bytes()
        let (superseded, stored) = try await options.withClient { client in
            let read = try await client.get(key: key)
            let stored = try await client.put(key: key, value: bytes, ttlSeconds: write.ttl, context: read.context, w: write.w)
            return (read.siblings.count, stored)
        }
        if output.json {
            print(Output.writeJSON(key: key, context: stored, extra: ["superseded": .integer(Int64(superseded))]))
        } else {
            print(Self.summary(superseded: superseded))
        }
    }

    static func summary(superseded: Int) -> String {
        switch superseded {
        case 0: "ok (the key had no value)"
        case 1: "ok (replaced 1 value)"
        default: "ok (resolved \(superseded) siblings into one value)"
        }
    }
}
