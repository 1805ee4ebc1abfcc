import Testing
@testable import CairnCheck
@testable import CairnSim

/// The set checker must pass correct histories and catch each kind of violation.
@Suite struct SetCheckerTests {
    @Test func aCorrectHistoryIsValid() {
        var checker = SetChecker()
        checker.recordAdd(key: 0, element: 1, outcome: .acknowledged)
        checker.recordAdd(key: 0, element: 2, outcome: .acknowledged)
        checker.recordAdd(key: 0, element: 3, outcome: .failed)
        checker.recordAdd(key: 1, element: 4, outcome: .unknown)
        checker.recordAdd(key: 1, element: 5, outcome: .acknowledged)
        checker.recordDelete(key: 1, element: 5, outcome: .acknowledged)
        let report = checker.check(finalReads: [0: [1, 2, 3], 1: []])
        #expect(report.isValid, "\(report)")
        #expect(report.acknowledged == 2 && report.indeterminate == 2)
    }

    @Test func aLostAcknowledgedAddIsReported() {
        var checker = SetChecker()
        checker.recordAdd(key: 0, element: 1, outcome: .acknowledged)
        checker.recordAdd(key: 0, element: 2, outcome: .acknowledged)
        let report = checker.check(finalReads: [0: [2]])
        #expect(!report.isValid)
        #expect(report.lost == [0: [1]])
    }

    @Test func inventedAndResurrectedElementsAreReported() {
        var checker = SetChecker()
        checker.recordAdd(key: 0, element: 1, outcome: .acknowledged)
        checker.recordDelete(key: 0, element: 1, outcome: .acknowledged)
        let report = checker.check(finalReads: [0: [1, 99]])
        #expect(report.resurrected == [0: [1]])
        #expect(report.invented == [0: [99]])
    }

    @Test func anUncertainStepAfterTheLastAcknowledgedOneMakesAnElementIndeterminate() {
        var checker = SetChecker()
        checker.recordAdd(key: 0, element: 1, outcome: .acknowledged)
        checker.recordDelete(key: 0, element: 1, outcome: .unknown)
        #expect(checker.check(finalReads: [0: []]).isValid)
        #expect(checker.check(finalReads: [0: [1]]).isValid)
    }

    /// Found by the simulator (set seed 9898): nodes whose clocks ran 126 ms ahead expired and
    /// reaped a TTL element a final read then missed, 56 ms before its expiry in true time.
    @Test func withinTheClocksSkewOfItsExpiryATTLElementMayBeEitherWay() {
        var checker = SetChecker()
        checker.recordAdd(key: 0, element: 7, outcome: .acknowledged)
        checker.recordExpiry(key: 0, element: 7, expiryMilliseconds: 1_000)
        #expect(!checker.check(finalReads: [0: []], atMilliseconds: 900).isValid, "without tolerance it is lost")
        #expect(checker.check(finalReads: [0: []], atMilliseconds: 900, clockToleranceMilliseconds: 200).isValid)
        #expect(checker.check(finalReads: [0: [7]], atMilliseconds: 1_100, clockToleranceMilliseconds: 200).isValid)
        #expect(!checker.check(finalReads: [0: [7]], atMilliseconds: 1_300, clockToleranceMilliseconds: 200).isValid,
                "past expiry and the tolerance it must be gone")
        #expect(!checker.check(finalReads: [0: []], atMilliseconds: 700, clockToleranceMilliseconds: 200).isValid,
                "before expiry less the tolerance it must be there")
    }
}
