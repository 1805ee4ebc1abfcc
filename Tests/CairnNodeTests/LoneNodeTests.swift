import CairnClient
import Foundation
import Testing

/// A node started alone with the defaults (N=3, R=W=2): it refuses reads and writes, and every
/// place an operator looks (the error, the log, `GET /v1/cluster`) says why and what to do.
@Suite struct LoneNodeTests {
    @Test func aLoneNodeNamesTheFixAndTheFixWorks() async throws {
        // Ports of its own, apart from the offset ranges of the other cluster tests.
        let cluster = try LocalCluster(name: "lone", internodePort: 7370, httpPort: 7380)
        defer { cluster.stopAll() }
        try cluster.start(9, seed: nil)
        let fixes = ["cairnd --seeds 127.0.0.9:7370", "cairnd --n 1", "CAIRN_N=1"]

        let write = cluster.put(9, "greeting", "hello")
        #expect(write.status == 503, "\(write.body)")
        let error = try #require(cluster.json("PUT", 9, "/v1/keys/greeting", body: "hello",
                                              headers: ["Content-Type": "application/octet-stream"])?["error"] as? [String: Any])
        #expect(error["code"] as? String == "quorum_unavailable")
        let message = try #require(error["message"] as? String)
        #expect(message.contains("the cluster has 1 member") && message.contains("W=2 of N=3"), "\(message)")
        for fix in fixes { #expect(message.contains(fix), "\(message)") }

        let read = try #require(cluster.json("GET", 9, "/v1/keys/greeting")?["error"] as? [String: Any])
        let readMessage = try #require(read["message"] as? String)
        #expect(readMessage.contains("R=2 of N=3") && readMessage.contains("cairn get -r 1"), "\(readMessage)")

        // What `cairn` prints is the client error's description.
        let client = try CairnClient(node: cluster.http(9), sourceAddress: LocalCluster.clientAddress)
        defer { client.close() }
        do {
            try await client.put(key: Array("greeting".utf8), value: Array("hello".utf8), context: nil, blind: true)
            Issue.record("a lone node with W=2 stored a write")
        } catch let error as CairnClientError {
            let printed = "\(error)"
            #expect(printed.hasSuffix("(quorum_unavailable, HTTP 503)") && printed.contains("W=2 of N=3"), "\(printed)")
            for fix in fixes { #expect(printed.contains(fix), "\(printed)") }
        }

        let warnings = try #require(cluster.json("GET", 9, "/v1/cluster")?["warnings"] as? [String])
        #expect(warnings.count == 1 && warnings[0].hasPrefix("replication is below N: the ring has 1 member but N=3"), "\(warnings)")
        for fix in fixes { #expect(warnings.first?.contains(fix) == true, "\(warnings)") }
        try cluster.waitUntil("the log warns that replication is below N", timeout: 5) {
            let log = (try? String(contentsOfFile: cluster.logPath(9), encoding: .utf8)) ?? ""
            return log.contains("warning") && log.contains("replication is below N") && log.contains("cairnd --n 1")
        }

        // The second fix the message names: the same data, N=1 (R and W follow).
        cluster.kill(9, signal: SIGTERM)
        try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1"])
        let stored = cluster.put(9, "greeting", "hello")
        #expect(stored.status == 200, "\(stored.body)\n\(cluster.logs())")
        #expect(cluster.json("GET", 9, "/v1/cluster")?["warnings"] as? [String] == [])
    }

    /// A node that was killed distrusts the mint epochs it recorded before (a coordinator
    /// replicates while its own fsync is pending, so its disk may lack a dot the others hold);
    /// one stopped cleanly keeps them. Either way a plain PUT still overwrites.
    @Test func aKilledNodeStartsUncleanAndAStoppedOneClean() throws {
        let cluster = try LocalCluster(name: "unclean", internodePort: 7470, httpPort: 7480)
        defer { cluster.stopAll() }
        let mark = cluster.directory + "/node9/clean.stop"
        func starts(clean: Bool) -> Int {
            let log = (try? String(contentsOfFile: cluster.logPath(9), encoding: .utf8)) ?? ""
            return log.components(separatedBy: "\n").count { $0.contains("node opened") && $0.contains("cairn.clean_stop=\(clean)") }
        }
        try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1"])
        #expect(starts(clean: true) == 1, "a new data directory has nothing to distrust\n\(cluster.logs())")
        #expect(cluster.put(9, "k", "one").status == 200)

        cluster.kill(9, signal: SIGKILL)
        #expect(!FileManager.default.fileExists(atPath: mark))
        try cluster.start(9, seed: nil)
        #expect(starts(clean: false) == 1, "\(cluster.logs())")
        let replayed = (try? String(contentsOfFile: cluster.logPath(9), encoding: .utf8)) ?? ""
        #expect(replayed.contains("applied the commit log left by an unclean stop"), "the kill left the commit log to replay")
        #expect(cluster.put(9, "k", "two").status == 200)
        let afterKill = cluster.get(9, "k")
        #expect(afterKill.status == 200 && NodeClusterTests.value(afterKill) == "two",
                "a fresh epoch still supersedes what it read: \(afterKill.body)")

        cluster.kill(9, signal: SIGTERM)
        #expect(FileManager.default.fileExists(atPath: mark), "a clean stop leaves its mark")
        try cluster.start(9, seed: nil)
        #expect(starts(clean: true) == 2, "\(cluster.logs())")
        #expect(!FileManager.default.fileExists(atPath: mark), "the mark is taken back before the node serves")
        #expect(cluster.put(9, "k", "three").status == 200)
        #expect(NodeClusterTests.value(cluster.get(9, "k")) == "three")
    }

    /// A node keeps its data, its CAS state and its mint leases when restarted with another
    /// number of core instances: the stores are shared, each instance's lease has its own file,
    /// and the highest lease is taken at start.
    @Test func aNodeRestartedWithAnotherCoreCountKeepsItsData() throws {
        let cluster = try LocalCluster(name: "cores", internodePort: 7490, httpPort: 7495)
        defer { cluster.stopAll() }
        let keys = (0..<40).map { "key-\($0)" }
        let json = ["Content-Type": "application/json"]
        try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1", "CAIRN_CORES": "3"])
        #expect(cluster.json("GET", 9, "/v1/cluster")?["cores"] as? Int == 3)
        for key in keys { #expect(cluster.put(9, key, "first \(key)").status == 200) }
        let created = cluster.request("POST", 9, "/v1/keys/lock/cas", body: #"{"expected": null, "value": "a"}"#, headers: json)
        #expect(created.status == 200, "\(created.body)")
        for index in 1...2 {
            #expect(FileManager.default.fileExists(atPath: cluster.directory + "/node9/mint-\(index).lease"),
                    "instance \(index) persisted its own lease")
        }

        for cores in ["1", "2"] {
            cluster.kill(9, signal: cores == "1" ? SIGTERM : SIGKILL)
            try cluster.start(9, seed: nil, environment: ["CAIRN_N": "1", "CAIRN_CORES": cores])
            #expect(cluster.json("GET", 9, "/v1/cluster")?["cores"] as? Int == Int(cores))
            for key in keys {
                let read = cluster.get(9, key)
                #expect(read.status == 200 && NodeClusterTests.value(read) == "first \(key)", "\(cores) cores: \(key) \(read.body)")
            }
            let stale = cluster.request("POST", 9, "/v1/keys/lock/cas", body: #"{"expected": null, "value": "b"}"#, headers: json)
            #expect(stale.status == 412 && stale.body.contains("\"a\""), "the CAS state survived: \(stale.body)")
        }
        // Overwrites after the restarts still overwrite (fresh dots above every earlier lease).
        for key in keys { #expect(cluster.put(9, key, "second \(key)").status == 200) }
        for key in keys {
            let read = cluster.get(9, key)
            #expect(read.status == 200 && NodeClusterTests.value(read) == "second \(key)", "\(key) \(read.body)")
        }
    }
}
