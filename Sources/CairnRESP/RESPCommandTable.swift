/// The commands Cairn answers, as `COMMAND` describes them to clients.
///
/// `COMMAND` (and `COMMAND INFO`) give each command's name, arity (negative: at least that
/// many arguments, the name included), flags and key positions, in Redis 7's ten-field form;
/// `COMMAND DOCS` gives a summary and group per command, which is what redis-cli asks for at
/// start to build its hints. `COMMAND COUNT` and `COMMAND LIST` complete the set.
enum RESPCommandTable {
    struct Entry {
        var name: String
        var arity: Int
        var flags: [String]
        var firstKey: Int
        var lastKey: Int
        var step: Int
        var group: String
        var summary: String
    }

    static let entries: [Entry] = [
        Entry(name: "get", arity: 2, flags: ["readonly", "fast"], firstKey: 1, lastKey: 1, step: 1, group: "string",
              summary: "Returns the key's value; of siblings, the one with the greatest dot."),
        Entry(name: "set", arity: -3, flags: ["write"], firstKey: 1, lastKey: 1, step: 1, group: "string",
              summary: "Sets the key's value: plain, NX/XX by compare-and-set, EX/PX/KEEPTTL, GET."),
        Entry(name: "setnx", arity: 3, flags: ["write", "fast"], firstKey: 1, lastKey: 1, step: 1, group: "string",
              summary: "SET key value NX."),
        Entry(name: "setex", arity: 4, flags: ["write"], firstKey: 1, lastKey: 1, step: 1, group: "string",
              summary: "SET key value EX seconds."),
        Entry(name: "psetex", arity: 4, flags: ["write"], firstKey: 1, lastKey: 1, step: 1, group: "string",
              summary: "SET key value PX milliseconds."),
        Entry(name: "del", arity: -2, flags: ["write"], firstKey: 1, lastKey: -1, step: 1, group: "generic",
              summary: "Deletes keys; answers how many held a value."),
        Entry(name: "unlink", arity: -2, flags: ["write", "fast"], firstKey: 1, lastKey: -1, step: 1, group: "generic",
              summary: "DEL."),
        Entry(name: "exists", arity: -2, flags: ["readonly", "fast"], firstKey: 1, lastKey: -1, step: 1, group: "generic",
              summary: "Counts the keys named that hold a value."),
        Entry(name: "type", arity: 2, flags: ["readonly", "fast"], firstKey: 1, lastKey: 1, step: 1, group: "generic",
              summary: "string, or none."),
        Entry(name: "expire", arity: 3, flags: ["write", "fast"], firstKey: 1, lastKey: 1, step: 1, group: "generic",
              summary: "Sets the key's time to live in seconds (rewrites its value)."),
        Entry(name: "pexpire", arity: 3, flags: ["write", "fast"], firstKey: 1, lastKey: 1, step: 1, group: "generic",
              summary: "Sets the key's time to live in milliseconds (rewrites its value)."),
        Entry(name: "persist", arity: 2, flags: ["write", "fast"], firstKey: 1, lastKey: 1, step: 1, group: "generic",
              summary: "Removes the key's time to live (rewrites its value)."),
        Entry(name: "ttl", arity: 2, flags: ["readonly", "fast"], firstKey: 1, lastKey: 1, step: 1, group: "generic",
              summary: "The key's time to live in seconds; -1 none, -2 no key."),
        Entry(name: "pttl", arity: 2, flags: ["readonly", "fast"], firstKey: 1, lastKey: 1, step: 1, group: "generic",
              summary: "The key's time to live in milliseconds; -1 none, -2 no key."),
        Entry(name: "mget", arity: -2, flags: ["readonly", "fast"], firstKey: 1, lastKey: -1, step: 1, group: "string",
              summary: "The values of several keys."),
        Entry(name: "mset", arity: -3, flags: ["write"], firstKey: 1, lastKey: -1, step: 2, group: "string",
              summary: "Sets several keys, each as SET does (not atomically)."),
        Entry(name: "scan", arity: -2, flags: ["readonly"], firstKey: 0, lastKey: 0, step: 0, group: "generic",
              summary: "Pages through the cluster's keys; MATCH takes only prefix* patterns."),
        Entry(name: "ping", arity: -1, flags: ["fast"], firstKey: 0, lastKey: 0, step: 0, group: "connection",
              summary: "PONG, or the message."),
        Entry(name: "echo", arity: 2, flags: ["fast"], firstKey: 0, lastKey: 0, step: 0, group: "connection",
              summary: "The message."),
        Entry(name: "quit", arity: -1, flags: ["fast"], firstKey: 0, lastKey: 0, step: 0, group: "connection",
              summary: "Closes the connection."),
        Entry(name: "select", arity: 2, flags: ["fast"], firstKey: 0, lastKey: 0, step: 0, group: "connection",
              summary: "Only database 0 exists."),
        Entry(name: "hello", arity: -1, flags: ["fast"], firstKey: 0, lastKey: 0, step: 0, group: "connection",
              summary: "Chooses RESP2 or RESP3; the server's particulars."),
        Entry(name: "auth", arity: -2, flags: ["fast"], firstKey: 0, lastKey: 0, step: 0, group: "connection",
              summary: "Proves a client token (a node started with --auth-file)."),
        Entry(name: "client", arity: -2, flags: [], firstKey: 0, lastKey: 0, step: 0, group: "connection",
              summary: "SETNAME, GETNAME, SETINFO, ID, INFO."),
        Entry(name: "command", arity: -1, flags: [], firstKey: 0, lastKey: 0, step: 0, group: "server",
              summary: "These descriptions."),
        Entry(name: "config", arity: -2, flags: [], firstKey: 0, lastKey: 0, step: 0, group: "server",
              summary: "CONFIG GET answers nothing: Cairn has no Redis configuration."),
        Entry(name: "info", arity: -1, flags: [], firstKey: 0, lastKey: 0, step: 0, group: "server",
              summary: "The node's server, clients, stats, replication and cluster particulars."),
        Entry(name: "cairn.getall", arity: -2, flags: ["readonly"], firstKey: 1, lastKey: 1, step: 1, group: "cairn",
              summary: "Every live sibling and the causal context: [[value...], context]."),
        Entry(name: "cairn.put", arity: -4, flags: ["write"], firstKey: 1, lastKey: 1, step: 1, group: "cairn",
              summary: "Writes a value superseding what the context covers; answers the new context."),
        Entry(name: "cairn.del", arity: 3, flags: ["write"], firstKey: 1, lastKey: 1, step: 1, group: "cairn",
              summary: "Deletes what the context covers; answers the new context."),
        Entry(name: "cairn.cas", arity: 4, flags: ["write"], firstKey: 1, lastKey: 1, step: 1, group: "cairn",
              summary: "Compare-and-set: sets new if the value is expected."),
        Entry(name: "cairn.casnx", arity: 3, flags: ["write"], firstKey: 1, lastKey: 1, step: 1, group: "cairn",
              summary: "Compare-and-set: sets new if the key is absent."),
        Entry(name: "cairn.casdel", arity: 3, flags: ["write"], firstKey: 1, lastKey: 1, step: 1, group: "cairn",
              summary: "Compare-and-set: deletes the key if the value is expected."),
    ]

    static let byName: [String: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })

    static func answer(_ query: RESPCommand.CommandQuery) -> RESPValue {
        switch query {
        case .all: .array(entries.map(info))
        case .count: .integer(Int64(entries.count))
        case .list: .array(entries.map { .bulk($0.name) })
        case .info(let names): .array(names.map { byName[$0.lowercased()].map(info) ?? .null })
        case .docs(let names):
            .map((names.isEmpty ? entries : names.compactMap { byName[$0.lowercased()] }).map { entry in
                (.bulk(entry.name), .map([
                    (.bulk("summary"), .bulk(entry.summary)),
                    (.bulk("since"), .bulk("1.0.0")),
                    (.bulk("group"), .bulk(entry.group)),
                ]))
            })
        }
    }

    /// Redis 7's command information: name, arity, flags, first key, last key, step, ACL
    /// categories, tips, key specifications, subcommands.
    private static func info(_ entry: Entry) -> RESPValue {
        .array([
            .bulk(entry.name), .integer(Int64(entry.arity)), .array(entry.flags.map { .simpleString($0) }),
            .integer(Int64(entry.firstKey)), .integer(Int64(entry.lastKey)), .integer(Int64(entry.step)),
            .array([]), .array([]), .array([]), .array([]),
        ])
    }
}
