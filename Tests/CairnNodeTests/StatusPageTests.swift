import Foundation
import Glibc
import Testing

/// The status page in a real browser: headless Chromium loads `/ui` from a node of a real
/// three-node cluster, runs its script, and the DOM it leaves shows the members, the ring and
/// the request counts; a killed node shows as unreachable within a few seconds.
///
/// Chromium is kept off every address but the node's: a proxy that does not exist for anything
/// not on loopback, and a resolver that resolves nothing else.
@Suite(.serialized) struct StatusPageTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs headless Chromium on `url` with `action` (`--dump-dom` or `--screenshot=PATH`)
    /// after `milliseconds` of the page's virtual time; returns what it printed on stdout.
    static func chromium(_ url: String, _ action: String, host: String, profile: String, milliseconds: Int = 2_500) throws -> String {
        let binary = try #require(Self.chromium, "headless Chromium is needed (Debian package chromium; Scripts/setup.sh installs it)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions", "--no-pings",
            "--disable-domain-reliability", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE \(host)",
            "--user-data-dir=\(profile)", "--hide-scrollbars", "--window-size=1280,1000",
            "--virtual-time-budget=\(milliseconds)", action, url,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The member rows of a dumped page: node id → (status, reachable).
    static func members(_ dom: String) -> [String: (status: String, reachable: Bool)] {
        var rows: [String: (String, Bool)] = [:]
        let pattern = #/<tr data-node="([0-9a-f]{32})" data-status="([a-z]+)" data-reachable="(true|false)">/#
        for match in dom.matches(of: pattern) {
            rows[String(match.output.1)] = (String(match.output.2), match.output.3 == "true")
        }
        return rows
    }

    @Test func thePageShowsTheMembersAndRingAndAKilledNodeWithinSeconds() async throws {
        let cluster = try NodeClusterTests.threeNodes("ui", portOffset: 150)
        defer { cluster.stopAll() }
        for index in 0..<20 { #expect(cluster.put(index % 3 + 1, "ui\(index)", "v\(index)").status == 200) }
        for index in 0..<20 { _ = cluster.get(index % 3 + 1, "ui\(index)") }
        let ids = try (1...3).map { node in
            try #require(cluster.json("GET", node, "/v1/cluster")?["node"] as? String)
        }
        let url = "http://\(cluster.http(1))/ui"
        let profile = cluster.directory + "/chromium"

        let dom = try Self.chromium(url, "--dump-dom", host: "127.0.0.1", profile: profile)
        let members = Self.members(dom)
        #expect(Set(members.keys) == Set(ids), "the page lists the three members: \(members.keys.sorted())")
        #expect(members.values.allSatisfy { $0.status == "valid" && $0.reachable }, "\(members)")
        let ring = try #require(cluster.json("GET", 1, "/v1/cluster")?["ring"] as? [String: Any])
        let partitions = try #require(ring["partitions"] as? Int)
        let svg = try #require(dom.firstRange(of: "<svg id=\"ring\"").map { dom[$0.lowerBound...] })
        let drawn = svg[..<(svg.firstRange(of: "</svg>")?.lowerBound ?? svg.endIndex)]
        #expect(drawn.components(separatedBy: "<path ").count - 1 == partitions, "the ring is drawn, one arc per partition (\(partitions))")
        #expect(dom.contains("ring v") && dom.contains("N=3 R=2 W=2"), "the summary names the ring and quorums")
        #expect(dom.contains("get</td>"), "request rows are drawn")
        #expect(!dom.contains("HTTP 4") && !dom.contains("HTTP 5"), "every API call of the page succeeded")

        // The screenshot the README shows (CAIRN_SCREENSHOT=path writes it there instead).
        let shot = ProcessInfo.processInfo.environment["CAIRN_SCREENSHOT"] ?? cluster.directory + "/status-page.png"
        _ = try Self.chromium(url, "--screenshot=\(shot)", host: "127.0.0.1", profile: profile)
        #expect(FileManager.default.fileExists(atPath: shot))

        cluster.kill(3)
        let killed = Date()
        var shown: TimeInterval?
        while Date().timeIntervalSince(killed) < 30 {
            let now = Self.members(try Self.chromium(url, "--dump-dom", host: "127.0.0.1", profile: profile, milliseconds: 1_500))
            if now[ids[2]]?.reachable == false, now[ids[0]]?.reachable == true, now[ids[1]]?.reachable == true {
                shown = Date().timeIntervalSince(killed)
                break
            }
        }
        let seconds = try #require(shown, "the page never showed the killed node as unreachable")
        print("StatusPageTests: the killed node showed as unreachable after \(String(format: "%.1f", seconds)) s")
        #expect(seconds < 15, "shown after \(seconds) s")
    }
}
