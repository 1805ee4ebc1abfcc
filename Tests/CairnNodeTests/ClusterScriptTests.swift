import Foundation
import Testing

/// `Scripts/cluster.sh` over a folder of its own (`CAIRN_CLUSTER_DIR`): what it says and does
/// about the data of an earlier cluster, before it builds or starts anything, so no node and no
/// port is involved.
@Suite struct ClusterScriptTests {
    static let repository = String(#filePath.split(separator: "/Tests/", maxSplits: 1)[0])

    struct Run {
        var status: Int32
        var output: String
    }

    /// Runs `Scripts/cluster.sh` with `arguments` over `directory`; stdout and stderr together.
    static func script(_ arguments: [String], directory: String) throws -> Run {
        let run = try LocalCluster.run(
            "/usr/bin/env", ["bash", repository + "/Scripts/cluster.sh"] + arguments, environment: ["CAIRN_CLUSTER_DIR": directory])
        return Run(status: run.status, output: run.output)
    }

    /// A folder laid out as `up` leaves it after a cluster of `nodes` nodes ran and stopped.
    static func formerCluster(_ name: String, nodes: Int) throws -> String {
        let directory = NSTemporaryDirectory() + "cairn-cluster-script-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        for node in 1...nodes {
            try FileManager.default.createDirectory(atPath: directory + "/node\(node)", withIntermediateDirectories: true)
            try "0123456789abcdef0123456789abcdef\n".write(toFile: directory + "/node\(node)/node.id", atomically: true, encoding: .utf8)
            try "--data \(directory)/node\(node)\n".write(toFile: directory + "/node\(node).args", atomically: true, encoding: .utf8)
            try "".write(toFile: directory + "/node\(node).log", atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test func upRefusesTheDataOfALargerClusterAndSaysWhatToDo() throws {
        let directory = try Self.formerCluster("larger", nodes: 5)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let started = Date()
        let run = try Self.script(["up", "3"], directory: directory)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.output.contains("earlier 5-node cluster"), "\(run.output)")
        #expect(run.output.contains("cluster.sh up 5"), "\(run.output)")
        #expect(run.output.contains("cluster.sh reset && ") && run.output.contains("cluster.sh up 3"), "\(run.output)")
        #expect(!run.output.contains("building"), "it refuses before building: \(run.output)")
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(FileManager.default.fileExists(atPath: directory + "/node5/node.id"), "the data is left alone")
    }

    @Test func resetDeletesWhatUpMadeAndNothingElse() throws {
        let directory = try Self.formerCluster("reset", nodes: 2)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "keep".write(toFile: directory + "/notes.txt", atomically: true, encoding: .utf8)
        let refused = try Self.script(["reset"], directory: directory)
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.output.contains("notes.txt"), "\(refused.output)")
        #expect(FileManager.default.fileExists(atPath: directory + "/node1/node.id"))

        try FileManager.default.removeItem(atPath: directory + "/notes.txt")
        // The certificates of `up --tls` are the script's own too.
        try FileManager.default.createDirectory(atPath: directory + "/certs/ca", withIntermediateDirectories: true)
        try "certificate".write(toFile: directory + "/certs/ca/ca.crt", atomically: true, encoding: .utf8)
        let reset = try Self.script(["reset"], directory: directory)
        #expect(reset.status == 0, "\(reset.output)")
        #expect(!FileManager.default.fileExists(atPath: directory), "\(reset.output)")
        let again = try Self.script(["reset"], directory: directory)
        #expect(again.status == 0, "\(again.output)")
    }
}
