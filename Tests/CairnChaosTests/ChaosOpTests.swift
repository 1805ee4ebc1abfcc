import Testing
@testable import CairnChaos

/// A run's history survives its file: every field of an operation comes back from its line.
@Suite struct ChaosOpTests {
    @Test func everyFieldSurvivesALine() {
        let ops = [
            ChaosOp(workload: .set, client: 101, node: "127.0.0.2:17080", key: 2, kind: .add, value: 101_000_007, call: 17, ret: 20,
                    start: 1_234.5, end: 1_240.2, outcome: .ok),
            ChaosOp(workload: .cas, client: 200, node: "127.0.0.1:17080", key: 0, kind: .cas, value: 200_000_001, expected: nil,
                    call: 3, ret: nil, start: 10, end: 5_010, outcome: .unknown, detail: "node 127.0.0.1:17080 did not answer\twithin 5 s"),
            ChaosOp(workload: .cas, client: 201, node: "127.0.0.3:17080", key: 1, kind: .cas, value: 201_000_002, expected: 200_000_001,
                    call: 4, ret: 6, start: 11, end: 12, outcome: .ok, result: [], refused: true),
            ChaosOp(workload: .plain, client: 300, node: "127.0.0.4:17080", key: 1, kind: .read, call: 8, ret: 9, start: 0, end: 0.1,
                    outcome: .ok, result: [300_000_004, 301_000_001]),
            ChaosOp(workload: .plain, client: 300, node: "127.0.0.4:17080", key: 1, kind: .delete, call: 10, ret: 11, start: 3, end: 4,
                    outcome: .failed, detail: "no quorum"),
            ChaosOp(workload: .ttl, client: 400, node: "127.0.0.5:17080", key: 400_000_003, kind: .write, value: 400_000_003, ttlSeconds: 3,
                    call: 12, ret: 13, start: 5, end: 6, outcome: .ok),
        ]
        let text = ([ChaosOp.header] + ops.map(\.line)).joined(separator: "\n") + "\n"
        let (parsed, bad) = ChaosOp.parse(text)
        #expect(bad.isEmpty)
        var expected = ops
        expected[1].detail = "node 127.0.0.1:17080 did not answer within 5 s"  // a tab would split the line
        #expect(parsed == expected)
    }

    @Test func aDamagedLineIsReportedNotSkipped() {
        let good = ChaosOp(workload: .set, client: 1, node: "n:1", key: 0, kind: .add, value: 5, call: 1, ret: 2, start: 0, end: 1, outcome: .ok)
        let (ops, bad) = ChaosOp.parse(good.line + "\nset\t1\tn:1\n")
        #expect(ops == [good])
        #expect(bad == ["set\t1\tn:1"])
    }

    @Test func storedValuesReadBackAsTheirNumbers() {
        #expect(ChaosWorkload.elements(Array("5,17,300000001".utf8)) == [5, 17, 300_000_001])
        #expect(ChaosWorkload.elements(Array("42".utf8)) == [42])
        #expect(ChaosWorkload.elements([]) == [])
        #expect(ChaosWorkload.key("chaos-7-", .cas, 2) == Array("chaos-7-cas-2".utf8))
    }
}
