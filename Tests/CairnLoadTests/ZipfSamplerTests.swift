import CairnCore
import Testing

@testable import CairnLoad

/// The Zipf sampler against the distribution's definition: draws with a fixed seed, counted,
/// compared with the exact probability of each rank (no timing, no flakiness: the seed fixes
/// every draw).
@Suite struct ZipfSamplerTests {
    @Test(arguments: [0.5, 0.99, 1.0, 1.5])
    func topRanksFollowTheExactProbabilities(exponent: Double) {
        let sampler = ZipfSampler(count: 1000, exponent: exponent)
        var random = SplitMix64(seed: 42)
        let draws = 200_000
        var counts = [Int](repeating: 0, count: sampler.count)
        for _ in 0..<draws { counts[sampler.sample(using: &random)] += 1 }
        for rank in [0, 1, 2, 3, 5, 10, 50, 200] {
            let p = sampler.probability(ofRank: rank)
            let observed = Double(counts[rank]) / Double(draws)
            // Five standard errors of a binomial proportion: a real bias in the sampler shows
            // (it was written against exactly this), sampling noise does not.
            let tolerance = 5 * (p * (1 - p) / Double(draws)).squareRoot()
            #expect(abs(observed - p) <= tolerance, "rank \(rank), s=\(exponent): observed \(observed), exact \(p)")
        }
    }

    @Test func everyDrawIsARank() {
        var random = SplitMix64(seed: 7)
        for (count, exponent) in [(1, 0.99), (2, 0.99), (3, 5.0), (10_000_000, 0.99), (17, 0.01), (1000, 100.0)] {
            let sampler = ZipfSampler(count: count, exponent: exponent)
            for _ in 0..<2000 {
                let rank = sampler.sample(using: &random)
                #expect((0..<count).contains(rank), "\(rank) of \(count), s=\(exponent)")
            }
        }
    }

    @Test func aSingleKeyIsAlwaysDrawn() {
        var random = SplitMix64(seed: 1)
        let sampler = ZipfSampler(count: 1, exponent: 0.99)
        #expect((0..<100).allSatisfy { _ in sampler.sample(using: &random) == 0 })
    }

    @Test func theSeedFixesTheSequence() {
        let sampler = ZipfSampler(count: 5000, exponent: 0.99)
        var first = SplitMix64(seed: 99)
        var second = SplitMix64(seed: 99)
        let a = (0..<100).map { _ in sampler.sample(using: &first) }
        let b = (0..<100).map { _ in sampler.sample(using: &second) }
        #expect(a == b)
    }

    @Test func zipfianIsSkewedAndUniformIsNot() {
        var random = SplitMix64(seed: 3)
        let zipf = KeyChooser(count: 10_000, distribution: .zipfian(exponent: 0.99))
        let uniform = KeyChooser(count: 10_000, distribution: .uniform)
        let draws = 50_000
        let hotZipf = (0..<draws).filter { _ in zipf.next(using: &random) < 100 }.count
        let hotUniform = (0..<draws).filter { _ in uniform.next(using: &random) < 100 }.count
        // 1 % of the keys take about 1 % of uniform draws and over half of Zipf(0.99)'s.
        #expect(Double(hotUniform) / Double(draws) < 0.02)
        #expect(Double(hotZipf) / Double(draws) > 0.5)
    }
}
