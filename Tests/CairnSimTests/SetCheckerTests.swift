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
}
