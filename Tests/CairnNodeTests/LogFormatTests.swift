import Foundation
import Logging
import Testing

@testable import cairnd

/// `cairnd --log-format json`: every line a node writes is one JSON object with its time,
/// level, logger, message and metadata, and odd text survives the round trip.
@Suite(.serialized) struct LogFormatTests {
    @Test func timestampsAreRFC3339InUTC() {
        let cases: [(Int, Int, String)] = [
            (0, 0, "1970-01-01T00:00:00.000Z"), (951_782_400, 7, "2000-02-29T00:00:00.007Z"),
            (1_796_527_276, 123, "2026-12-06T03:21:16.123Z"), (-1, 999, "1969-12-31T23:59:59.999Z"),
            (253_402_300_799, 0, "9999-12-31T23:59:59.000Z"),
        ]
        for (seconds, milliseconds, expected) in cases {
            #expect(JSONLogHandler.timestamp(seconds: seconds, milliseconds: milliseconds) == expected)
        }
    }

    @Test func aLineIsOneJSONObjectWhateverTheText() throws {
        let line = JSONLogHandler.line(
            time: (0, 0), level: .warning, label: "cairnd", message: "a \"quoted\"\nline\u{1}é", source: "Test",
            metadata: ["cairn.peer": "127.0.0.2:7070", "nested": ["k": "v"], "list": ["a", "b"]])
        #expect(!line.contains(UInt8(ascii: "\n")), "one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect(object["message"] as? String == "a \"quoted\"\nline\u{1}é")
        #expect(object["level"] as? String == "warning" && object["logger"] as? String == "cairnd")
        #expect(object["cairn.peer"] as? String == "127.0.0.2:7070")
        #expect((object["nested"] as? [String: Any])?["k"] as? String == "v")
        #expect(object["list"] as? [String] == ["a", "b"])
        #expect(object["time"] as? String == "1970-01-01T00:00:00.000Z")
    }

    @Test func aRealNodeWritesOnlyJSONLines() throws {
        let cluster = try LocalCluster(name: "jsonlog", internodePort: 7372, httpPort: 7382)
        defer { cluster.stopAll() }
        try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1", "CAIRN_LOG_FORMAT": "json"])
        #expect(cluster.put(9, "k", "v").status == 200)
        cluster.stopAll()
        let text = try String(contentsOfFile: cluster.logPath(9), encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count >= 2, "\(text)")
        var messages: [String] = []
        for line in lines {
            let object = try #require(try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            #expect(object["time"] is String && object["level"] is String && object["logger"] is String)
            if let message = object["message"] as? String { messages.append(message) }
            if object["message"] as? String == "node opened" { #expect((object["cairn.node"] as? String)?.count == 32) }
        }
        #expect(messages.contains("node opened"), "\(messages)")
    }
}
