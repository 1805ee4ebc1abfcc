import CairnCore
import CairnHTTP

extension RESPCommand {
    /// Parses and checks one command's arguments (the name first, any case), or throws the
    /// error to answer. Pure: the same arguments always give the same command or error.
    public static func parse(_ arguments: [[UInt8]], limits: RESPLimits) throws(RESPError) -> RESPCommand {
        precondition(!arguments.isEmpty, "a command has at least its name")
        var reader = ArgumentReader(arguments: arguments, limits: limits)
        let name = reader.name
        let command: RESPCommand
        switch name {
        case "PING":
            command = .ping(reader.isAtEnd ? nil : try reader.bytes())
        case "ECHO":
            command = .echo(try reader.bytes())
        case "QUIT":
            command = .quit
        case "SELECT":
            let index = try reader.integer()
            guard index == 0 else { throw RESPError("DB index is out of range (Cairn has only database 0)") }
            command = .select
        case "HELLO":
            command = try parseHello(&reader)
        case "AUTH":
            let first = try reader.bytes()
            if reader.isAtEnd {
                command = .auth(token: first)
            } else {
                command = .auth(token: try reader.bytes())
            }
        case "CLIENT":
            command = .client(try parseClient(&reader))
        case "COMMAND":
            command = .command(try parseCommandQuery(&reader))
        case "CONFIG":
            guard try reader.keyword() == "GET", !reader.isAtEnd else {
                throw RESPError("Cairn answers only CONFIG GET (always empty: it has no Redis configuration)")
            }
            _ = reader.rest()
            command = .configGet
        case "INFO":
            command = .info(sections: reader.rest().map { String(decoding: $0, as: UTF8.self).lowercased() })
        case "GET":
            command = .get(key: try reader.key())
        case "SET":
            let key = try reader.key()
            let value = try reader.value()
            command = .set(key: key, value: value, options: try parseSetOptions(&reader))
        case "SETNX":
            command = .set(key: try reader.key(), value: try reader.value(), options: SetOptions(condition: .ifAbsent))
        case "SETEX", "PSETEX":
            let key = try reader.key()
            let ttl = try reader.ttl(inMilliseconds: name == "PSETEX", command: name)
            command = .set(key: key, value: try reader.value(), options: SetOptions(expiry: .after(ttl)))
        case "DEL", "UNLINK":
            command = .del(keys: try reader.keys())
        case "EXISTS":
            command = .exists(keys: try reader.keys())
        case "TYPE":
            command = .type(key: try reader.key())
        case "EXPIRE", "PEXPIRE":
            let key = try reader.key()
            let amount = try reader.integer()
            let unit: Int64 = name == "EXPIRE" ? 1_000 : 1
            let maxMilliseconds = limits.api.maxTTLSeconds * 1_000
            let (milliseconds, overflow) = amount.multipliedReportingOverflow(by: unit)
            guard !overflow, milliseconds <= maxMilliseconds else {
                throw RESPError("invalid expire time in '\(name.lowercased())' command (at most \(limits.api.maxTTLSeconds) seconds)")
            }
            if !reader.isAtEnd {
                throw RESPError("Cairn takes no NX, XX, GT or LT on \(name) (docs/resp.md)")
            }
            command = .expire(key: key, milliseconds: milliseconds)
        case "PERSIST":
            command = .persist(key: try reader.key())
        case "TTL", "PTTL":
            command = .ttl(key: try reader.key(), inMilliseconds: name == "PTTL")
        case "MGET":
            command = .mget(keys: try reader.keys())
        case "MSET":
            command = .mset(pairs: try reader.pairs())
        case "SCAN":
            command = try parseScan(&reader)
        case "CAIRN.GETALL":
            let key = try reader.key()
            var serial = false
            if !reader.isAtEnd {
                guard try reader.keyword() == "SERIAL" else { throw RESPError.syntax("CAIRN.GETALL key [SERIAL]") }
                serial = true
            }
            command = .getAll(key: key, serial: serial)
        case "CAIRN.PUT":
            let key = try reader.key()
            let value = try reader.value()
            let context = try reader.context()
            var ttl: Duration? = nil
            if !reader.isAtEnd {
                let option = try reader.keyword()
                guard option == "EX" || option == "PX" else { throw RESPError.syntax("CAIRN.PUT key value context [EX s | PX ms]") }
                ttl = try reader.ttl(inMilliseconds: option == "PX", command: name)
            }
            command = .put(key: key, value: value, context: context, ttl: ttl)
        case "CAIRN.DEL":
            command = .deleteWithContext(key: try reader.key(), context: try reader.context())
        case "CAIRN.CAS":
            command = .cas(key: try reader.key(), expected: try reader.value(), new: try reader.value())
        case "CAIRN.CASNX":
            command = .cas(key: try reader.key(), expected: nil, new: try reader.value())
        case "CAIRN.CASDEL":
            command = .cas(key: try reader.key(), expected: try reader.value(), new: nil)
        default:
            throw RESPError.unknownCommand(arguments[0])
        }
        guard reader.isAtEnd else { throw RESPError.wrongArguments(name) }
        return command
    }

    private static func parseHello(_ reader: inout ArgumentReader) throws(RESPError) -> RESPCommand {
        guard !reader.isAtEnd else { return .hello(version: nil, clientName: nil) }
        let number = try reader.integer(error: RESPError("Protocol version is not an integer or out of range"))
        guard let version = RESPVersion(rawValue: Int(clamping: number)) else {
            throw RESPError(code: .noProtocol, "unsupported protocol version")
        }
        var name: [UInt8]? = nil
        var auth: [UInt8]? = nil
        while !reader.isAtEnd {
            switch try reader.keyword() {
            case "SETNAME": name = try clientName(try reader.bytes())
            case "AUTH":
                _ = try reader.bytes()
                auth = try reader.bytes()
            default: throw RESPError.syntax("HELLO [protover [AUTH username token] [SETNAME clientname]]")
            }
        }
        return .hello(version: version, clientName: name, auth: auth)
    }

    private static func parseClient(_ reader: inout ArgumentReader) throws(RESPError) -> ClientCommand {
        switch try reader.keyword() {
        case "SETNAME": return .setName(try clientName(try reader.bytes()))
        case "GETNAME": return .getName
        case "ID": return .id
        case "INFO": return .info
        case "SETINFO":
            let attribute = try reader.keyword()
            guard attribute == "LIB-NAME" || attribute == "LIB-VER" else {
                throw RESPError("Unrecognized option '\(attribute)'")
            }
            let value = try reader.bytes()
            guard value.count <= 128, value.allSatisfy({ (33...126).contains($0) }) else {
                throw RESPError("\(attribute) cannot contain spaces, newlines or special characters")
            }
            return .setInfo(attribute: attribute, value: value)
        case let other:
            _ = reader.rest()
            throw RESPError("unknown subcommand '\(other)'; Cairn knows CLIENT SETNAME, GETNAME, SETINFO, ID and INFO")
        }
    }

    /// A client name: printable ASCII without blanks, as Redis requires, at most 128 bytes.
    private static func clientName(_ name: [UInt8]) throws(RESPError) -> [UInt8] {
        guard name.count <= 128, name.allSatisfy({ (33...126).contains($0) }) else {
            throw RESPError("Client names cannot contain spaces, newlines or special characters (at most 128 bytes)")
        }
        return name
    }

    private static func parseCommandQuery(_ reader: inout ArgumentReader) throws(RESPError) -> CommandQuery {
        guard !reader.isAtEnd else { return .all }
        switch try reader.keyword() {
        case "COUNT": return .count
        case "LIST":
            _ = reader.rest()
            return .list
        case "DOCS": return .docs(reader.rest().map { String(decoding: $0, as: UTF8.self).uppercased() })
        case "INFO": return .info(reader.rest().map { String(decoding: $0, as: UTF8.self).uppercased() })
        case let other:
            _ = reader.rest()
            throw RESPError("unknown subcommand '\(other)'; Cairn knows COMMAND, COMMAND COUNT, DOCS, INFO and LIST")
        }
    }

    private static func parseSetOptions(_ reader: inout ArgumentReader) throws(RESPError) -> SetOptions {
        var options = SetOptions()
        var seenCondition = false
        var seenExpiry = false
        while !reader.isAtEnd {
            let option = try reader.keyword()
            switch option {
            case "NX", "XX":
                guard !seenCondition else { throw RESPError.syntax() }
                seenCondition = true
                options.condition = option == "NX" ? .ifAbsent : .ifPresent
            case "GET":
                options.returnOld = true
            case "EX", "PX":
                guard !seenExpiry else { throw RESPError.syntax() }
                seenExpiry = true
                options.expiry = .after(try reader.ttl(inMilliseconds: option == "PX", command: "SET"))
            case "KEEPTTL":
                guard !seenExpiry else { throw RESPError.syntax() }
                seenExpiry = true
                options.expiry = .keep
            case "EXAT", "PXAT":
                throw RESPError("Cairn takes no EXAT or PXAT (expiry at a time): use EX or PX (docs/resp.md)")
            default:
                throw RESPError.syntax()
            }
        }
        if options.condition != .always, options.expiry != .none {
            throw RESPError(
                "SET with NX or XX takes no EX, PX or KEEPTTL: Cairn runs NX and XX as compare-and-set, which writes values without a time to live (docs/resp.md)")
        }
        return options
    }

    private static func parseScan(_ reader: inout ArgumentReader) throws(RESPError) -> RESPCommand {
        let cursorBytes = try reader.bytes()
        guard let cursor = UInt64(String(decoding: cursorBytes, as: UTF8.self)), cursorBytes.count <= 20 else {
            throw RESPError("invalid cursor")
        }
        var pattern = ScanPattern.prefix([])
        var count = 10
        var stringsOnly = false
        while !reader.isAtEnd {
            switch try reader.keyword() {
            case "MATCH": pattern = try scanPattern(try reader.bytes(), limits: reader.limits)
            case "COUNT":
                let asked = try reader.integer()
                guard asked >= 1 else { throw RESPError.syntax() }
                count = Int(min(asked, Int64(reader.limits.api.maxScanLimit)))
            case "TYPE":
                let type = String(decoding: try reader.bytes(), as: UTF8.self).lowercased()
                stringsOnly = type != "string"
            default: throw RESPError.syntax()
            }
        }
        return .scan(cursor: cursor, pattern: pattern, count: count, stringsOnly: stringsOnly)
    }

    /// `prefix*` or `*`: a prefix; a pattern without `*`, `?`, `[` or `\`: one key. Anything
    /// else would need every key of the cluster examined against it, which a prefix scan does
    /// not do, so it is refused rather than served slowly.
    static func scanPattern(_ pattern: [UInt8], limits: RESPLimits) throws(RESPError) -> ScanPattern {
        let special: Set<UInt8> = [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "\\")]
        var body = pattern[...]
        let isPrefix = body.last == UInt8(ascii: "*")
        if isPrefix { body = body.dropLast() }
        guard !body.contains(where: special.contains) else {
            throw RESPError("Cairn scans by prefix: MATCH takes only 'prefix*', '*' or a key without wildcards (docs/resp.md)")
        }
        guard body.count <= limits.api.maxKeyBytes, isPrefix || !body.isEmpty else {
            throw RESPError("MATCH pattern is longer than a key may be (\(limits.api.maxKeyBytes) bytes) or empty")
        }
        return isPrefix ? .prefix(Array(body)) : .exact(Array(body))
    }
}
