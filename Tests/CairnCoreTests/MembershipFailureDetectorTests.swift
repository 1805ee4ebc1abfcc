import Testing
@testable import CairnCore

/// The φ accrual detector, driven by the times given to it.
@Suite struct MembershipFailureDetectorTests {
    let node = NodeID(high: 1, low: 2)

    @Test(arguments: [-30.0, -5, -1, -0.5, 0, 1e-9, 0.3, 1, 2.5, 10, 40, 300, 700])
    func expMatchesKnownValues(_ x: Double) {
        // e^x through e^(x/2)², and against the constant e.
        let value = PhiMath.exp(x)
        let half = PhiMath.exp(x / 2)
        #expect(abs(value - half * half) <= 1e-13 * value)
        if x == 1 { #expect(abs(value - 2.718_281_828_459_045) < 1e-15) }
        if x == 0 { #expect(value == 1) }
        #expect(abs(PhiMath.log(value) - x) <= 1e-12 * max(1, abs(x)), "log(exp(\(x)))")
    }

    @Test func logMatchesKnownValues() {
        #expect(abs(PhiMath.log10(1_000) - 3) < 1e-14)
        #expect(abs(PhiMath.log(2) - PhiMath.ln2) < 1e-15)
        #expect(abs(PhiMath.log10(1e-8) + 8) < 1e-13)
        #expect(PhiMath.log(1) == 0)
    }

    @Test func phiGrowsWithSilenceAndMatchesTheNormalTail() {
        // At the mean, P(later) = ½, φ = log10 2.
        #expect(abs(PhiAccrualDetector.phi(elapsedMilliseconds: 1_000, meanMilliseconds: 1_000, standardDeviationMilliseconds: 100) - 0.30103) < 1e-4)
        // Two deviations past the mean: the normal tail is 0.02275, φ ≈ 1.643 (logistic approximation).
        #expect(abs(PhiAccrualDetector.phi(elapsedMilliseconds: 1_200, meanMilliseconds: 1_000, standardDeviationMilliseconds: 100) - 1.643) < 0.01)
        var previous = -1.0
        for elapsed in stride(from: 0.0, through: 20_000, by: 50) {
            let phi = PhiAccrualDetector.phi(elapsedMilliseconds: elapsed, meanMilliseconds: 4_000, standardDeviationMilliseconds: 100)
            #expect(phi >= previous && phi.isFinite)
            previous = phi
        }
    }

    /// Feeds heartbeats at the given intervals, checking the node is reachable just before each
    /// arrival (where φ peaks); returns the detector and the time of the last arrival.
    func feed(_ intervals: [UInt64]) -> (PhiAccrualDetector, UInt64) {
        var detector = PhiAccrualDetector()
        var now: UInt64 = 0
        detector.monitor(node, now: MonotonicTime(milliseconds: now))
        for (index, interval) in intervals.enumerated() {
            now += interval
            #expect(detector.isReachable(node, now: MonotonicTime(milliseconds: now - 1)), "suspected before heartbeat \(index) after a gap of \(interval) ms")
            detector.heartbeat(from: node, now: MonotonicTime(milliseconds: now))
        }
        return (detector, now)
    }

    /// The first millisecond at which the node is suspected after `last`.
    func suspectedAfter(_ detector: PhiAccrualDetector, last: UInt64) -> UInt64 {
        var elapsed: UInt64 = 0
        while detector.isReachable(node, now: MonotonicTime(milliseconds: last + elapsed)) && elapsed < 120_000 { elapsed += 10 }
        return elapsed
    }

    struct Pattern: Sendable, CustomTestStringConvertible {
        var name: String
        var intervals: @Sendable (inout SplitMix64) -> UInt64
        /// Bounds on how long after the last heartbeat the node is suspected once they stop.
        var suspectedWithin: ClosedRange<UInt64>
        var testDescription: String { name }
    }

    static let patterns: [Pattern] = [
        // Regular 1 s: mean 1 s + 3 s pause, deviation at its 100 ms floor, φ = 8 at y ≈ 5.2.
        Pattern(name: "regular 1 s", intervals: { _ in 1_000 }, suspectedWithin: 4_300...4_800),
        Pattern(name: "uniform jitter 800–1200 ms", intervals: { 800 + $0.next() % 401 }, suspectedWithin: 4_300...5_000),
        Pattern(name: "uniform jitter 500–1500 ms", intervals: { 500 + $0.next() % 1_001 }, suspectedWithin: 4_800...6_200),
        Pattern(name: "every 10th delayed to 2.5 s", intervals: { $0.next() % 10 == 0 ? 2_500 : 1_000 }, suspectedWithin: 4_800...7_000),
        // σ ≈ 900 ms: suspected near 1 s + 3 s + 5.2σ ≈ 8.7 s, where φ = 8 says.
        Pattern(name: "bursts: 100 ms then 1.9 s", intervals: { $0.next() % 2 == 0 ? 100 : 1_900 }, suspectedWithin: 7_500...9_500),
        Pattern(name: "occasional 3.5 s stall", intervals: { $0.next() % 25 == 0 ? 3_500 : 1_000 }, suspectedWithin: 5_000...9_000),
    ]

    @Test(arguments: patterns) func jitteryButRegularIsNotSuspectedAndSilenceIs(_ pattern: Pattern) {
        var random = SplitMix64(seed: 77)
        let intervals = (0..<300).map { _ in pattern.intervals(&random) }
        let (detector, last) = feed(intervals)
        let after = suspectedAfter(detector, last: last)
        #expect(pattern.suspectedWithin.contains(after), "suspected \(after) ms after the last heartbeat")
    }

    @Test func neverAnsweringNodeIsSuspected() {
        var detector = PhiAccrualDetector()
        detector.monitor(node, now: 5_000)
        #expect(detector.isReachable(node, now: 8_000))
        #expect(!detector.isReachable(node, now: 12_000))
        #expect(!detector.isReachable(NodeID(high: 9, low: 9), now: 0), "unmonitored nodes are not reachable")
    }

    @Test func recoveryClearsSuspicionAndTheOutageDoesNotSkewHistory() {
        let (suspected, last) = feed(Array(repeating: 1_000, count: 50))
        var detector = suspected
        let outageEnd = last + 30_000
        #expect(!detector.isReachable(node, now: MonotonicTime(milliseconds: outageEnd)))
        detector.heartbeat(from: node, now: MonotonicTime(milliseconds: outageEnd))
        #expect(detector.isReachable(node, now: MonotonicTime(milliseconds: outageEnd)))
        #expect((detector.phi(node, now: MonotonicTime(milliseconds: outageEnd)) ?? 99) < 0.01)
        // The 30 s gap was not sampled: the next outage is detected as fast as the first.
        #expect(suspectedAfter(detector, last: outageEnd) == suspectedAfter(suspected, last: last))
    }
}
