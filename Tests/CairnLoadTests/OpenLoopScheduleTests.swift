import CairnClient
import CairnCore
import Testing

@testable import CairnLoad

/// The open-loop schedule's arithmetic: table cases, then the fast 128-bit version against a
/// brute-force count on small numbers.
@Suite struct OpenLoopScheduleTests {
    @Test func operationsAreDueEveryOneOverRateSeconds() {
        let schedule = OpenLoopSchedule(operationsPerSecond: 3)
        #expect((0..<5).map { schedule.offsetNanoseconds(ofOperation: $0) }
                == [0, 333_333_333, 666_666_666, 1_000_000_000, 1_333_333_333])
        #expect(schedule.offset(ofOperation: 4) == .nanoseconds(1_333_333_333))
        let thousand = OpenLoopSchedule(operationsPerSecond: 1000)
        #expect(thousand.offsetNanoseconds(ofOperation: 1) == 1_000_000)
        #expect(thousand.operations(withinNanoseconds: 10_000_000_000) == 10_000)
        #expect(thousand.operations(withinNanoseconds: 0) == 0)
        #expect(thousand.operations(withinNanoseconds: 1) == 1)  // operation 0 is due at once
        #expect(thousand.operationsDue(atNanoseconds: 0) == 1)
        #expect(thousand.operationsDue(atNanoseconds: 999_999) == 1)
        #expect(thousand.operationsDue(atNanoseconds: 1_000_000) == 2)
    }

    @Test func hugeNumbersSaturateInsteadOfTrapping() {
        let slow = OpenLoopSchedule(operationsPerSecond: 1)
        #expect(slow.offsetNanoseconds(ofOperation: .max) == .max)
        #expect(slow.offsetNanoseconds(ofOperation: 18_446_744_073) == 18_446_744_073_000_000_000)
        #expect(slow.offsetNanoseconds(ofOperation: 18_446_744_074) == .max)
        let fast = OpenLoopSchedule(operationsPerSecond: .max)
        #expect(fast.operations(withinNanoseconds: .max) == .max)
        #expect(fast.operationsDue(atNanoseconds: .max) == .max)
        #expect(fast.offsetNanoseconds(ofOperation: .max) == 1_000_000_000)
        #expect(fast.offsetNanoseconds(ofOperation: .max - 1) == 999_999_999)
    }

    /// Against the definitions, counted one operation at a time.
    @Test func matchesABruteForceCount() {
        var random = SplitMix64(seed: 11)
        for _ in 0..<200 {
            let rate = UInt64.random(in: 1...5000, using: &random)
            let schedule = OpenLoopSchedule(operationsPerSecond: rate)
            let offsets = (0..<UInt64(300)).map { $0 * 1_000_000_000 / rate }
            #expect((0..<UInt64(300)).map { schedule.offsetNanoseconds(ofOperation: $0) } == offsets)
            let end = offsets.last!
            for _ in 0..<20 {
                let t = UInt64.random(in: 0...end, using: &random)
                #expect(schedule.operations(withinNanoseconds: t) == UInt64(offsets.filter { $0 < t }.count), "rate \(rate), t \(t)")
                #expect(schedule.operationsDue(atNanoseconds: t) == UInt64(offsets.filter { $0 <= t }.count), "rate \(rate), t \(t)")
            }
        }
    }

    @Test func aPlanSendsWhatItsDurationAndCountAllow() {
        let workload = Workload(kind: .get, keyCount: 10)
        let node = NodeAddress(host: "127.0.0.1", port: 7480)
        func plan(duration: Duration?, operations: UInt64?, rate: UInt64?) -> LoadPlan {
            LoadPlan(workload: workload, nodes: [node], concurrency: 4, duration: duration, operations: operations, rate: rate, seed: 1)
        }
        #expect(plan(duration: .seconds(10), operations: nil, rate: 1000).operationLimit == 10_000)
        #expect(plan(duration: .milliseconds(2500), operations: nil, rate: 3).operationLimit == 8)  // due at 0, 1/3, …, 7/3 s
        #expect(plan(duration: .seconds(10), operations: 500, rate: 1000).operationLimit == 500)
        #expect(plan(duration: .seconds(10), operations: nil, rate: nil).operationLimit == .max)
        #expect(plan(duration: nil, operations: 42, rate: nil).operationLimit == 42)
    }
}
