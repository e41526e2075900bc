// Statistics against hand-computed cases and against scipy.stats.mannwhitneyu (scipy 1.17.1, values pasted
// below with the call that produced them), including the odd cases: empty input, n = 1, ties, identical samples.
import XCTest
@testable import Bench

final class StatisticsTests: XCTestCase {
    func testMedian() {
        let cases: [([Double], Double?)] = [
            ([], nil), ([5], 5), ([3, 1, 2], 2), ([4, 1, 3, 2], 2.5), ([2, 2, 2, 2], 2), ([1, 100], 50.5),
            ([-3, 7, 0, 7, 7], 7),
        ]
        for (x, want) in cases { XCTAssertEqual(Stats.median(x), want, "median of \(x)") }
    }

    func testPercentileIsLinearInterpolationLikeNumpy() {
        // numpy.percentile(x, 90): 9.1, 46.0, 2.8
        let cases: [([Double], Double, Double?)] = [
            ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9.1), ([15, 20, 35, 40, 50], 0.9, 46), ([3, 1, 2], 0.9, 2.8),
            ([7], 0.9, 7), ([], 0.9, nil), ([4, 1, 9], 0, 1), ([4, 1, 9], 1, 9), ([1, 2, 3, 4], 0.5, 2.5),
            ([2, 2, 2], 0.9, 2),
        ]
        for (x, p, want) in cases {
            guard let want else { XCTAssertNil(Stats.percentile(x, p)); continue }
            XCTAssertEqual(Stats.percentile(x, p)!, want, accuracy: 1e-12, "p\(p) of \(x)")
        }
    }

    func testMeanAndMAD() {
        XCTAssertNil(Stats.mean([])); XCTAssertNil(Stats.mad([]))
        XCTAssertEqual(Stats.mean([1, 2, 3, 4]), 2.5)
        XCTAssertEqual(Stats.mad([5]), 0)
        XCTAssertEqual(Stats.mad([3, 3, 3]), 0)
        // median 2; |x - 2| = 1 1 0 0 2 4 7 -> sorted 0 0 1 1 2 4 7 -> 1
        XCTAssertEqual(Stats.mad([1, 1, 2, 2, 4, 6, 9]), 1)
        // median 2.5; |x - 2.5| = 1.5 0.5 0.5 1.5 -> 1
        XCTAssertEqual(Stats.mad([1, 2, 3, 4]), 1)
    }

    func testOutliersBeyondThreeScaledMADs() {
        // median 10; deviations 0 0 1 1 0 20 -> MAD 0.5 -> limit 3 * 1.4826 * 0.5 = 2.22: only 30 is out.
        var o = Stats.outliers([10, 10, 11, 9, 10, 30])
        XCTAssertEqual(o.low, []); XCTAssertEqual(o.high, [5])
        // median 10; deviations 0 0 1 1 0 20 10 -> MAD 1 -> limit 4.45: 30 high, 0 low; 11 and 9 stay.
        o = Stats.outliers([10, 10, 11, 9, 10, 30, 0])
        XCTAssertEqual(o.low, [6]); XCTAssertEqual(o.high, [5])
        // 14.4 is 4.4 from the median, just inside 4.4478; 14.5 is outside.
        XCTAssertEqual(Stats.outliers([10, 10, 11, 9, 10, 30, 0, 14.4]).high, [5])
        XCTAssertEqual(Stats.outliers([10, 10, 11, 9, 10, 30, 0, 14.5]).high, [5, 7])
        // Identical samples, n = 1, empty: none.
        XCTAssertTrue(Stats.outliers([4, 4, 4]) == ([], []))
        XCTAssertTrue(Stats.outliers([4]) == ([], []))
        XCTAssertTrue(Stats.outliers([]) == ([], []))
        // MAD 0: everything off the median is an outlier.
        XCTAssertTrue(Stats.outliers([4, 4, 4, 4, 5]) == ([], [4]))
    }

    // MARK: Mann-Whitney U

    /// scipy.stats.mannwhitneyu(a, b, alternative='two-sided', method='exact').pvalue (no ties, n <= 10),
    /// and method='asymptotic', use_continuity=True for ties or larger samples.
    struct MWCase { let name: String; let a: [Double]; let b: [Double]; let u: Double; let p: Double; let method: String }
    static let scipyCases: [MWCase] = [
        MWCase(name: "separated 5/5", a: [1, 2, 3, 4, 5], b: [6, 7, 8, 9, 10], u: 0, p: 0.007936507936507936, method: "exact"),
        MWCase(name: "mixed 4/5", a: [1.1, 3.2, 5.0, 2.4], b: [2.0, 4.1, 6.3, 7.7, 0.5], u: 8, p: 0.7301587301587302, method: "exact"),
        MWCase(name: "10/10", a: [12.1, 14.3, 11.8, 13.5, 12.9, 15.2, 13.1, 12.4, 14.8, 13.9],
               b: [11.2, 12.0, 10.9, 11.7, 12.6, 11.1, 10.5, 12.2, 11.9, 11.4], u: 93, p: 0.0004871289701011063, method: "exact"),
        MWCase(name: "separated 3/4", a: [3, 1, 2], b: [4, 6, 5, 7], u: 0, p: 0.05714285714285714, method: "exact"),
        MWCase(name: "1/1", a: [1], b: [2], u: 0, p: 1, method: "exact"),
        MWCase(name: "overlap 6/7", a: [1, 4, 6, 9, 11, 13], b: [2, 3, 5, 7, 8, 10, 12], u: 23, p: 0.8356643356643356, method: "exact"),
        MWCase(name: "ties 6/5", a: [1, 2, 2, 3, 3, 3], b: [2, 3, 4, 4, 5], u: 5.5, p: 0.08871369199677616, method: "asymptotic"),
        MWCase(name: "ties 15/16", a: [1, 1, 2, 2, 2, 3, 3, 4, 5, 5, 6, 6, 6, 7, 8],
               b: [3, 4, 4, 5, 5, 6, 7, 7, 7, 8, 8, 9, 9, 10, 10, 11], u: 45, p: 0.003081127201103452, method: "asymptotic"),
        MWCase(name: "no ties 12/15", a: (1...12).map { Double($0) + 0.5 }, b: (5...19).map { Double($0) },
               u: 36, p: 0.009040133006019455, method: "asymptotic"),
        // scipy: mannwhitneyu([1,1,1], [1,1,1]) -> statistic 4.5, pvalue 1.0
        MWCase(name: "identical", a: [1, 1, 1], b: [1, 1, 1], u: 4.5, p: 1, method: "asymptotic"),
    ]

    func testMannWhitneyMatchesScipy() throws {
        for c in Self.scipyCases {
            let r = try XCTUnwrap(Stats.mannWhitney(c.a, c.b), c.name)
            XCTAssertEqual(r.u, c.u, "U of \(c.name)")
            XCTAssertEqual(r.p, c.p, accuracy: 1e-12, "p of \(c.name)")
            XCTAssertEqual(r.method, c.method, c.name)
            // Two-sided: swapping the samples gives the same p and the complementary U.
            let s = try XCTUnwrap(Stats.mannWhitney(c.b, c.a))
            XCTAssertEqual(s.p, c.p, accuracy: 1e-12, "p of swapped \(c.name)")
            XCTAssertEqual(s.u, Double(c.a.count * c.b.count) - c.u)
        }
    }

    func testMannWhitneyEmptyIsNil() {
        XCTAssertNil(Stats.mannWhitney([], [1, 2]))
        XCTAssertNil(Stats.mannWhitney([1], []))
    }

    func testExactDistributionCountsEveryOrdering() {
        // For (2, 2): orderings aabb..bbaa give U = 0,1,2,2,3,4 -> counts 1 1 2 1 1.
        XCTAssertEqual(Stats.exactUCounts(2, 2), [1, 1, 2, 1, 1])
        for (n1, n2) in [(1, 1), (3, 4), (10, 10), (1, 10), (7, 3)] {
            let c = Stats.exactUCounts(n1, n2)
            XCTAssertEqual(c.count, n1 * n2 + 1)
            XCTAssertEqual(c.reduce(0, +), binomial(n1 + n2, n1), "(\(n1), \(n2)) sums to C(n1+n2, n1)")
            XCTAssertEqual(c, c.reversed(), "symmetric")
        }
    }

    private func binomial(_ n: Int, _ k: Int) -> Double {
        var r = 1.0
        for i in 0..<k { r = r * Double(n - i) / Double(i + 1) }
        return r.rounded()
    }

    // MARK: bootstrap

    func testBootstrapIsDeterministicAndContainsTheTrueRatio() throws {
        // A around 100, B around 50 (fixed values, small spread): the true ratio of medians is 0.5.
        let a: [Double] = [100, 101, 99, 102, 98, 100.5, 99.5, 103, 97, 100, 101.5, 98.5]
        let b: [Double] = [50, 50.5, 49.5, 51, 49, 50.2, 49.8, 52, 48, 50, 50.7, 49.3]
        let ci = try XCTUnwrap(Stats.bootstrapRatioOfMedians(a: a, b: b, resamples: 2000, seed: 42))
        XCTAssertLessThanOrEqual(ci.low, 0.5); XCTAssertGreaterThanOrEqual(ci.high, 0.5)
        XCTAssertGreaterThan(ci.low, 0.48); XCTAssertLessThan(ci.high, 0.52)
        let again = try XCTUnwrap(Stats.bootstrapRatioOfMedians(a: a, b: b, resamples: 2000, seed: 42))
        XCTAssertEqual(ci.low, again.low); XCTAssertEqual(ci.high, again.high)
        let other = try XCTUnwrap(Stats.bootstrapRatioOfMedians(a: a, b: b, resamples: 2000, seed: 43))
        XCTAssertTrue(other.low != ci.low || other.high != ci.high, "another seed draws other resamples")
    }

    func testBootstrapOddCases() throws {
        XCTAssertNil(Stats.bootstrapRatioOfMedians(a: [], b: [1]))
        XCTAssertNil(Stats.bootstrapRatioOfMedians(a: [1], b: []))
        XCTAssertNil(Stats.bootstrapRatioOfMedians(a: [0, 0], b: [1]), "median of A zero: no ratio")
        // Identical samples: every resample has the same medians.
        let same = try XCTUnwrap(Stats.bootstrapRatioOfMedians(a: [4, 4, 4], b: [2, 2]))
        XCTAssertEqual(same.low, 0.5); XCTAssertEqual(same.high, 0.5)
        // n = 1 each.
        let one = try XCTUnwrap(Stats.bootstrapRatioOfMedians(a: [8], b: [2]))
        XCTAssertEqual(one.low, 0.25); XCTAssertEqual(one.high, 0.25)
    }

    func testRandomBelowStaysInRange() {
        var r = SplitMix64(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<1000 { let v = r.below(7); XCTAssertTrue((0..<7).contains(v)); seen.insert(v) }
        XCTAssertEqual(seen.count, 7)
    }
}
