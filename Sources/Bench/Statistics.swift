// Statistics over timing samples: plain functions of [Double], no state, no I/O.
// Definitions (also in Notes/statistics.md):
//   median      middle value of the sorted samples; the mean of the two middle values when n is even.
//   percentile  linear interpolation between closest ranks (numpy's default, Hyndman & Fan type 7):
//               h = (n - 1)·p, q = x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋ + 1] - x[⌊h⌋]) over the sorted x.
//   MAD         median absolute deviation, unscaled: median(|x - median(x)|). 1.4826·MAD estimates σ for
//               normal data.
//   outlier     |x - median| > 3 · 1.4826 · MAD (a modified z-score above 3). With MAD = 0 every value that
//               differs from the median is an outlier.
//   bootstrap   percentile bootstrap of median(B) / median(A): each resample draws n_A values from A and n_B
//               from B with replacement (SplitMix64, fixed seed); the CI is the 2.5 % and 97.5 % percentiles
//               (type 7) of the resampled ratios.
//   Mann-Whitney two-sided U test. Exact null distribution when n_A, n_B <= 10 and there are no ties;
//               otherwise the normal approximation with tie correction and continuity correction
//               (scipy.stats.mannwhitneyu's `exact` and `asymptotic` methods).
import Foundation

/// Pure statistics functions. Every function returns nil for empty input instead of trapping.
public enum Stats {
    /// Median (mean of the two middle values for even n); nil when empty.
    public static func median(_ x: [Double]) -> Double? {
        medianSorted(x.sorted())
    }

    /// Median of already sorted values.
    public static func medianSorted(_ s: [Double]) -> Double? {
        let n = s.count
        if n == 0 { return nil }
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// Percentile p in [0, 1], linear interpolation between closest ranks (numpy's default); nil when empty.
    public static func percentile(_ x: [Double], _ p: Double) -> Double? {
        percentileSorted(x.sorted(), p)
    }

    /// Percentile of already sorted values.
    public static func percentileSorted(_ s: [Double], _ p: Double) -> Double? {
        let n = s.count
        if n == 0 { return nil }
        let h = (Double(n - 1) * min(max(p, 0), 1))
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, n - 1)
        return s[lo] + (h - Double(lo)) * (s[hi] - s[lo])
    }

    /// Arithmetic mean; nil when empty.
    public static func mean(_ x: [Double]) -> Double? {
        x.isEmpty ? nil : x.reduce(0, +) / Double(x.count)
    }

    /// Median absolute deviation (unscaled); nil when empty.
    public static func mad(_ x: [Double]) -> Double? {
        guard let m = median(x) else { return nil }
        return median(x.map { abs($0 - m) })
    }

    /// Scale that turns a MAD into a standard-deviation estimate for normal data.
    public static let madToSigma = 1.4826
    /// Outliers lie further than this many scaled MADs from the median.
    public static let outlierCutoff = 3.0

    /// Indices of the outliers, low (below the median) and high (above).
    public static func outliers(_ x: [Double]) -> (low: [Int], high: [Int]) {
        guard let m = median(x), let d = mad(x) else { return ([], []) }
        let limit = outlierCutoff * madToSigma * d
        var low: [Int] = [], high: [Int] = []
        for (i, v) in x.enumerated() where abs(v - m) > limit {
            if v < m { low.append(i) } else { high.append(i) }
        }
        return (low, high)
    }

    // MARK: bootstrap

    /// Percentile-bootstrap confidence interval of median(b) / median(a).
    /// Deterministic: the same inputs, `resamples` and `seed` always give the same interval.
    /// Nil when either side is empty or a resampled median of `a` is zero.
    public static func bootstrapRatioOfMedians(a: [Double], b: [Double], confidence: Double = 0.95,
                                               resamples: Int = 2000, seed: UInt64 = 0x5EED_B007) -> (low: Double, high: Double)? {
        if a.isEmpty || b.isEmpty || resamples < 1 { return nil }
        var rng = SplitMix64(seed: seed)
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        var ra = [Double](repeating: 0, count: a.count)
        var rb = [Double](repeating: 0, count: b.count)
        for _ in 0..<resamples {
            for i in 0..<a.count { ra[i] = a[rng.below(a.count)] }
            for i in 0..<b.count { rb[i] = b[rng.below(b.count)] }
            ra.sort(); rb.sort()
            let ma = medianSorted(ra)!, mb = medianSorted(rb)!
            if ma == 0 { return nil }
            ratios.append(mb / ma)
        }
        ratios.sort()
        let tail = (1 - confidence) / 2
        return (percentileSorted(ratios, tail)!, percentileSorted(ratios, 1 - tail)!)
    }

    // MARK: Mann-Whitney U

    /// The result of a two-sided Mann-Whitney U test.
    public struct MannWhitney: Codable, Equatable, Sendable {
        /// U of the first sample: pairs (a_i, b_j) with a_i > b_j, plus half the ties.
        public var u: Double
        /// Two-sided p-value.
        public var p: Double
        /// "exact" or "asymptotic".
        public var method: String
    }

    /// Largest sample sizes (each side) for which the exact null distribution is used.
    public static let exactLimit = 10

    /// Two-sided Mann-Whitney U test of a against b; nil when either is empty.
    public static func mannWhitney(_ a: [Double], _ b: [Double]) -> MannWhitney? {
        let n1 = a.count, n2 = b.count
        if n1 == 0 || n2 == 0 { return nil }
        // Midranks of the pooled sample, and the tie groups' sizes.
        let pooled = (a.map { ($0, 0) } + b.map { ($0, 1) }).sorted { $0.0 < $1.0 }
        let n = pooled.count
        var rankSumA = 0.0
        var tieTerm = 0.0 // sum of (t^3 - t) over tie groups
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where pooled[k].1 == 0 { rankSumA += rank }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        let u1 = rankSumA - Double(n1 * (n1 + 1)) / 2
        let u2 = Double(n1 * n2) - u1
        let big = max(u1, u2)
        if n1 <= exactLimit && n2 <= exactLimit && tieTerm == 0 {
            // P(U >= big) under H0 from the exact distribution, doubled.
            let counts = exactUCounts(n1, n2)
            let total = counts.reduce(0, +)
            var tail = 0.0
            for u in Int(big)..<counts.count { tail += counts[u] }
            return MannWhitney(u: u1, p: min(1, 2 * tail / total), method: "exact")
        }
        let mu = Double(n1 * n2) / 2
        let nn = Double(n)
        let variance = Double(n1 * n2) / 12 * ((nn + 1) - tieTerm / (nn * (nn - 1)))
        if !(variance > 0) { return MannWhitney(u: u1, p: 1, method: "asymptotic") }
        let z = (big - mu - 0.5) / variance.squareRoot()
        return MannWhitney(u: u1, p: min(1, max(0, erfc(z / 2.0.squareRoot()))), method: "asymptotic")
    }

    /// counts[u] = number of orderings of n1 + n2 distinct values whose U statistic equals u.
    /// Recurrence: f(n1, n2, u) = f(n1 - 1, n2, u - n2) + f(n1, n2 - 1, u) (is the largest value in a or b?).
    static func exactUCounts(_ n1: Int, _ n2: Int) -> [Double] {
        precondition(n1 >= 1 && n2 >= 1)
        // table[j] holds the distribution for (i - 1, j) while row i is built.
        var table = (0...n2).map { _ in [1.0] } // i = 0: U is always 0
        for i in 1...n1 {
            var next: [[Double]] = [[1.0]] // j = 0: U is always 0
            for j in 1...n2 {
                let withA = table[j]       // (i - 1, j), shifted by j
                let withB = next[j - 1]    // (i, j - 1)
                var f = [Double](repeating: 0, count: i * j + 1)
                for (u, c) in withA.enumerated() { f[u + j] += c }
                for (u, c) in withB.enumerated() { f[u] += c }
                next.append(f)
            }
            table = next
        }
        return table[n2]
    }
}
