import CairnHTTP
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `--log-format json`: one JSON object per line on stderr, for log shippers (Loki, Elastic,
/// CloudWatch) that would otherwise parse swift-log's text lines with regular expressions.
///
/// ```json
/// {"time":"2026-12-06T02:41:16.123Z","level":"info","logger":"cairnd","message":"ring changed",
///  "source":"CairnNode","cairn.ring_version":"7","cairn.members":"3"}
/// ```
///
/// Metadata keys become members (nested metadata as objects, lists as arrays); `time` is UTC
/// with milliseconds. Each line goes out in one `write(2)` (a line up to PIPE_BUF, 4 KiB, is
/// atomic on a pipe, so lines from different threads do not interleave; a longer one may).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = Self.line(
            time: Self.now(), level: event.level, label: label, message: "\(event.message)", source: event.source,
            metadata: metadata.merging(metadataProvider?.get() ?? [:]) { $1 }.merging(event.metadata ?? [:]) { $1 })
        line.append(UInt8(ascii: "\n"))
        Self.writeAll(line)
    }

    /// Writes `bytes` to stderr in one `write(2)` when it takes them all (lines of up to
    /// PIPE_BUF bytes always do), else on until every byte is out; `EINTR` is retried.
    static func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// One log line, without its newline.
    static func line(
        time: (seconds: Int, milliseconds: Int), level: Logger.Level, label: String, message: String, source: String,
        metadata: Logger.Metadata
    ) -> [UInt8] {
        var object: [String: JSONValue] = [:]
        for (key, value) in metadata { object[key] = json(value) }
        object["time"] = .string(timestamp(seconds: time.seconds, milliseconds: time.milliseconds))
        object["level"] = .string(level.rawValue)
        object["logger"] = .string(label)
        object["message"] = .string(message)
        object["source"] = .string(source)
        return JSONValue.object(object).rendered()
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let dictionary): .object(dictionary.mapValues(json))
        }
    }

    static func now() -> (seconds: Int, milliseconds: Int) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return (Int(spec.tv_sec), Int(spec.tv_nsec) / 1_000_000)
    }

    /// RFC 3339 in UTC with milliseconds, from the seconds since 1970 (proleptic Gregorian).
    static func timestamp(seconds: Int, milliseconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Howard Hinnant's days-to-civil algorithm.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3_600, 2)):\(pad(secondOfDay % 3_600 / 60, 2)):"
            + "\(pad(secondOfDay % 60, 2)).\(pad(milliseconds, 3))Z"
    }
}
