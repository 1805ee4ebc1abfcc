#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Zipf-distributed ranks `0..<count`: rank `k` is drawn with probability proportional to
/// `1 / (k + 1)^exponent`, so rank 0 is the hottest key.
///
/// Rejection-inversion sampling (W. Hörmann and G. Derflinger, "Rejection-inversion to generate
/// variates from monotone discrete distributions", ACM TOMACS 6(3), 1996), the method of Apache
/// Commons RNG's `RejectionInversionZipfSampler`: exact for every rank, O(1) per draw (about one
/// try on average), no table and no set-up that grows with `count`. YCSB's generator (Gray et
/// al., "Quickly generating billion-record synthetic databases", SIGMOD 1994) needs ζ(count) up
/// front, O(count), and only approximates the ranks past the second; its usual exponent, 0.99,
/// is this tool's default.
///
/// The sampler is a value with no state of its own: the caller's generator supplies the
/// randomness, so a worker's seed fixes its sequence of keys.
public struct ZipfSampler: Sendable, Hashable {
    /// How many ranks: draws are in `0..<count`.
    public let count: Int
    /// The exponent `s` of `1 / k^s`; larger is more skewed. 0.99 is YCSB's.
    public let exponent: Double

    private let hIntegralX1: Double
    private let hIntegralCount: Double
    private let squeeze: Double

    /// A sampler of `count` ranks (at least 1) with `exponent` in (0, 100].
    public init(count: Int, exponent: Double) {
        precondition(count >= 1, "a Zipf sampler needs at least one rank, got \(count)")
        precondition(exponent > 0 && exponent <= 100, "the Zipf exponent must be in (0, 100], got \(exponent)")
        self.count = count
        self.exponent = exponent
        hIntegralX1 = Self.hIntegral(1.5, exponent) - 1
        hIntegralCount = Self.hIntegral(Double(count) + 0.5, exponent)
        squeeze = 2 - Self.hIntegralInverse(Self.hIntegral(2.5, exponent) - Self.h(2, exponent), exponent)
    }

    /// One rank in `0..<count`.
    public func sample<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Int {
        while true {
            // u is uniform in (hIntegralX1, hIntegralCount]; its inverse image under the
            // integral of h covers [0.5, count + 0.5], one unit interval per rank.
            let u = hIntegralCount + Double.random(in: 0..<1, using: &generator) * (hIntegralX1 - hIntegralCount)
            let x = Self.hIntegralInverse(u, exponent)
            let k = Swift.min(Swift.max((x + 0.5).rounded(.down), 1), Double(count))
            // Accept at once inside the squeeze; otherwise when u falls under rank k's own
            // probability mass, which makes every rank exact.
            if k - x <= squeeze || u >= Self.hIntegral(k + 0.5, exponent) - Self.h(k, exponent) {
                return Int(k) - 1
            }
        }
    }

    /// The exact probability of `rank`, from the definition (O(count): for tests and reports).
    public func probability(ofRank rank: Int) -> Double {
        precondition((0..<count).contains(rank), "rank \(rank) outside 0..<\(count)")
        var total = 0.0
        for k in 1...count { total += Self.h(Double(k), exponent) }
        return Self.h(Double(rank + 1), exponent) / total
    }

    /// h(x) = x^-s, the unnormalised mass of rank x (1-based).
    private static func h(_ x: Double, _ s: Double) -> Double { exp(-s * log(x)) }

    /// H(x) = ∫ h = (x^(1-s) - 1) / (1 - s), and log(x) when s = 1, computed without the
    /// cancellation near s = 1.
    private static func hIntegral(_ x: Double, _ s: Double) -> Double {
        let logX = log(x)
        return expm1OverX((1 - s) * logX) * logX
    }

    /// The inverse of `hIntegral`.
    private static func hIntegralInverse(_ x: Double, _ s: Double) -> Double {
        var t = x * (1 - s)
        if t < -1 { t = -1 }  // rounding can carry t just past -1, where log1p has no value
        return exp(log1pOverX(t) * x)
    }

    /// log(1 + x) / x, with its series near 0.
    private static func log1pOverX(_ x: Double) -> Double {
        abs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }

    /// (e^x - 1) / x, with its series near 0.
    private static func expm1OverX(_ x: Double) -> Double {
        abs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x * (1.0 / 3.0) * (1 + 0.25 * x))
    }
}
