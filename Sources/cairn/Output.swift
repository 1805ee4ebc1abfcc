import CairnClient
import CairnHTTP

/// What the data commands print, as pure functions of what the node answered, so the format
/// is tested without a node. Human output by default; `--json` output is one compact JSON
/// document (members sorted by name) for scripts.
enum Output {
    /// A value on a line of its own: the text when it is UTF-8, else `base64:` and its padded
    /// standard base64 (use `--json`, or `get --raw`, to tell a text starting with `base64:`
    /// from an encoded value).
    static func value(_ bytes: [UInt8]) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { return "base64:" + Base64.encode(bytes, .standard) }
        return text
    }

    /// A value or key on one line: like `value`, with `\`, control characters and DEL
    /// escaped (`\n`, `\t`, `\r`, `\\`, `\u{1b}`), so each item of a list stays one line.
    static func oneLine(_ bytes: [UInt8]) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { return "base64:" + Base64.encode(bytes, .standard) }
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            case "\r": escaped += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                escaped += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// `cairn get`: the value, or "N siblings:" and each; then the context. Empty for an
    /// absent key (the command reports that on stderr).
    static func read(_ read: CairnClient.Read) -> String {
        var lines: [String] = []
        switch read.siblings.count {
        case 0: return ""
        case 1: lines.append(value(read.siblings[0]))
        default:
            lines.append("\(read.siblings.count) siblings:")
            for (index, sibling) in read.siblings.enumerated() {
                lines.append("  \(index + 1)) \(oneLine(sibling))")
            }
        }
        if let context = read.context { lines.append("context: \(context)") }
        return lines.joined(separator: "\n")
    }

    /// `cairn get --json`: `{"key", "siblings": [{"value"|"value_base64"}], "context"}`, the
    /// API's own shapes; `siblings` is empty and `context` may be null for an absent key.
    static func readJSON(key: [UInt8], _ read: CairnClient.Read) -> String {
        var document = bytesMembers(key, text: "key", base64: "key_base64")
        document["siblings"] = .array(read.siblings.map { .object(bytesMembers($0, text: "value", base64: "value_base64")) })
        document["context"] = read.context.map(JSONValue.string) ?? .null
        return render(.object(document))
    }

    /// `cairn scan`: one key per line.
    static func keys(_ page: CairnClient.KeyPage) -> String {
        guard let reads = page.reads else { return page.keys.map(oneLine).joined(separator: "\n") }
        return zip(page.keys, reads).map { key, read in
            let shown = read.siblings.count == 1 ? oneLine(read.siblings[0]) : "(\(read.siblings.count) siblings)"
            return oneLine(key) + "\t" + shown
        }.joined(separator: "\n")
    }

    /// The hint printed (on stderr) when more keys remain.
    static func moreKeys(_ page: CairnClient.KeyPage) -> String? {
        guard let next = page.next else { return nil }
        guard let text = String(validating: next, as: UTF8.self) else {
            return "more keys remain after a binary key (\(oneLine(next))); the CLI takes text keys, see --json"
        }
        return "more keys remain; continue with --after \(shellQuoted(text))"
    }

    /// `cairn scan --json`: `{"keys": [{"key"|"key_base64"}], "next": key object | null}`.
    static func keysJSON(_ page: CairnClient.KeyPage) -> String {
        let keys = page.keys.map { JSONValue.object(bytesMembers($0, text: "key", base64: "key_base64")) }
        let next = page.next.map { JSONValue.object(bytesMembers($0, text: "key", base64: "key_base64")) } ?? .null
        return render(["keys": .array(keys), "next": next])
    }

    /// `cairn cas`: whether it applied, and the current value when not.
    static func cas(_ result: CairnClient.CASResult) -> String {
        switch result {
        case .applied: "applied"
        case .failed(nil): "not applied: the key has no value"
        case .failed(let current?): "not applied: the current value is \(oneLine(current))"
        case .siblings(let values):
            "not applied: the key holds \(values.count) values (\(values.map(oneLine).joined(separator: ", "))); --force replaces them"
        }
    }

    /// `put`, `delete`, `resolve` with `--json`: the API's answer to a write
    /// (`{"ok": true, "context"}`) with the key, and `extra` members (`superseded` for resolve).
    /// A delete of a key with no value prints `"ok": false` and a null context.
    static func writeJSON(key: [UInt8], ok: Bool = true, context: String?, extra: [String: JSONValue] = [:]) -> String {
        var document = bytesMembers(key, text: "key", base64: "key_base64")
        document["ok"] = .bool(ok)
        document["context"] = context.map(JSONValue.string) ?? .null
        document.merge(extra) { current, _ in current }
        return render(.object(document))
    }

    /// `cairn cas --json`: the API's answer (`{"applied": true}`, or `"applied": false` with
    /// `"current": {"value"|"value_base64"} | null` and, when the key holds several values,
    /// `"siblings"`), with the key.
    static func casJSON(key: [UInt8], _ result: CairnClient.CASResult) -> String {
        var document = bytesMembers(key, text: "key", base64: "key_base64")
        switch result {
        case .applied:
            document["applied"] = true
        case .failed(let current):
            document["applied"] = false
            document["current"] = current.map { .object(bytesMembers($0, text: "value", base64: "value_base64")) } ?? .null
        case .siblings(let values):
            document["applied"] = false
            document["current"] = .null
            document["siblings"] = .array(values.map { .object(bytesMembers($0, text: "value", base64: "value_base64")) })
        }
        return render(.object(document))
    }

    static func bytesMembers(_ bytes: [UInt8], text: String, base64: String) -> [String: JSONValue] {
        if let string = String(validating: bytes, as: UTF8.self) { return [text: .string(string)] }
        return [base64: .string(Base64.encode(bytes, .standard))]
    }

    static func render(_ value: JSONValue) -> String {
        String(decoding: value.rendered(), as: UTF8.self)
    }
}

/// `text` in single quotes for a POSIX shell (`'` written as `'\''`).
func shellQuoted(_ text: String) -> String {
    "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}
