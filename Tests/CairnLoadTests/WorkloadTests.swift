import Testing

@testable import CairnLoad

/// Keys, mixes and the requests a worker makes, from a fixed seed.
@Suite struct WorkloadTests {
    @Test func keysHaveOneWidthAndSortByIndex() {
        let workload = Workload(kind: .scan, keyCount: 10_000)
        #expect(String(decoding: workload.key(0), as: UTF8.self) == "bench/0000")
        #expect(String(decoding: workload.key(42), as: UTF8.self) == "bench/0042")
        #expect(String(decoding: workload.key(9999), as: UTF8.self) == "bench/9999")
        #expect(String(decoding: workload.casKey(42), as: UTF8.self) == "bench/cas/0042")
        let keys = (0..<10_000).map(workload.key)
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(String(decoding: Workload(kind: .get, keyCount: 1).key(0), as: UTF8.self) == "bench/0")
    }

    @Test func eachWorkloadSendsItsOperations() {
        #expect(Workload(kind: .mixed, keyCount: 5).operations == [.get, .put])
        #expect(Workload(kind: .mixed, keyCount: 5, getPercent: 100).operations == [.get])
        #expect(Workload(kind: .mixed, keyCount: 5, getPercent: 0).operations == [.put])
        #expect(Workload(kind: .cas, keyCount: 5).operations == [.cas])
        #expect(Workload.Kind.allCases.filter { Workload(kind: $0, keyCount: 1).preloadsByDefault } == [.get, .mixed, .scan])
    }

    @Test func aMixedWorkloadKeepsItsShareOfReads() {
        var generator = WorkloadGenerator(workload: Workload(kind: .mixed, keyCount: 100, valueBytes: 32, getPercent: 80), seed: 9)
        let book = CASBook()
        var gets = 0
        for _ in 0..<10_000 {
            switch generator.next(book: book).request {
            case .get: gets += 1
            case .put(_, let value): #expect(value.count == 32)
            default: Issue.record("a mixed workload sent something else")
            }
        }
        #expect((7700...8300).contains(gets), "\(gets) gets of 10,000")
    }

    @Test func aCASExpectsWhatTheRunLastSaw() {
        var generator = WorkloadGenerator(workload: Workload(kind: .cas, keyCount: 1), seed: 1)
        let book = CASBook()
        guard case .cas(let key, nil, let first) = generator.next(book: book).request else {
            Issue.record("the first CAS of a key expects it absent")
            return
        }
        #expect(String(decoding: key, as: UTF8.self) == "bench/cas/0")
        book.learn(0, holds: first)
        guard case .cas(_, let expected, _) = generator.next(book: book).request else { Issue.record("not a CAS"); return }
        #expect(expected == first)
    }

    @Test func aScanStartsAfterAKeyOfTheSpace() {
        var generator = WorkloadGenerator(workload: Workload(kind: .scan, keyCount: 100, scanLimit: 25), seed: 4)
        guard case .scan(let prefix, let after, let limit) = generator.next(book: CASBook()).request else {
            Issue.record("not a scan")
            return
        }
        #expect(prefix == Array("bench/".utf8))
        #expect(after.starts(with: prefix) && after.count == "bench/00".utf8.count)
        #expect(limit == 25)
    }
}
