/// `exp` and `log10` for the detector. `CairnCore` imports only the standard library, which has
/// no transcendental functions on Linux (they live in Glibc/Foundation), so these are written
/// out: range reduction to a small argument, then a short series. Accurate to a few ulps over
/// the range φ needs, which the tests check against known values.
enum PhiMath {
    static let ln2 = 0.693_147_180_559_945_309_417_232_121_458
    static let ln10 = 2.302_585_092_994_045_684_017_991_454_684
    // ln 2 split so that k · ln2High is exact for the k that occur (Cody and Waite).
    private static let ln2High = 0.693_147_180_369_123_816_490_00
    private static let ln2Low = 1.908_214_929_270_587_700_02e-10

    /// e^x: x = k·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor series, then scaled by 2^k.
    static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.78 { return .infinity }
        if x < -745.2 { return 0 }
        let k = (x / ln2).rounded()
        let r = (x - k * ln2High) - k * ln2Low
        var term = 1.0
        var sum = 1.0
        for n in 1...18 {
            term *= r / Double(n)
            sum += term
            if abs(term) < 1e-17 * sum { break }
        }
        // Scale in two steps so that 2^k never overflows or underflows on its own near the ends.
        let half = Int(k) / 2
        return sum * Double(sign: .plus, exponent: half, significand: 1)
            * Double(sign: .plus, exponent: Int(k) - half, significand: 1)
    }

    /// ln x for x > 0: x = m·2^e with m in [√½, √2), ln m = 2·atanh((m − 1)/(m + 1)) by its series.
    static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "log of \(x)")
        var m = x.significand
        var e = Double(x.exponent)
        if m > 1.414_213_562_373_095_048_8 {
            m /= 2
            e += 1
        }
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var power = s
        var sum = 0.0
        var n = 1.0
        while true {
            let term = power / n
            sum += term
            if abs(term) <= 1e-18 * max(abs(sum), 1e-300) { break }
            power *= s2
            n += 2
        }
        return 2 * sum + e * ln2
    }

    static func log10(_ x: Double) -> Double { log(x) / ln10 }
}
