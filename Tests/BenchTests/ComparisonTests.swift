// Summary and Comparison: order statistics, warnings, verdicts, JSON round trip.
import XCTest
@testable import Bench

final class ComparisonTests: XCTestCase {
    func testSummaryOfHandComputedSamples() throws {
        let s = try XCTUnwrap(Summary(name: "x", values: [10, 10, 11, 9, 10, 30, 0, 12, 10, 11]))
        XCTAssertEqual(s.count, 10)
        XCTAssertEqual(s.median, 10); XCTAssertEqual(s.min, 0); XCTAssertEqual(s.max, 30)
        XCTAssertEqual(s.mean, 11.3, accuracy: 1e-12)
        // sorted 0 9 10 10 10 10 11 11 12 30: h = 8.1 -> 12 + 0.1 * 18 = 13.8
        XCTAssertEqual(s.p90, 13.8, accuracy: 1e-12)
        // deviations 0 0 1 1 0 20 10 2 0 1 -> sorted 0 0 0 0 1 1 1 2 10 20 -> MAD 1
        XCTAssertEqual(s.mad, 1)
        XCTAssertEqual(s.outliersLow, 1); XCTAssertEqual(s.outliersHigh, 1)
        XCTAssertEqual(s.warnings.map(\.kind), [.highSpread, .outliers], "MAD/median 10 % > 5 %")
    }

    func testSummaryOddCases() throws {
        XCTAssertNil(Summary(name: "empty", values: []))
        let one = try XCTUnwrap(Summary(name: "one", values: [7]))
        XCTAssertEqual([one.median, one.min, one.max, one.mean, one.p90, one.mad], [7, 7, 7, 7, 7, 0])
        XCTAssertEqual(one.warnings.map(\.kind), [.tooFewRuns])
        let same = try XCTUnwrap(Summary(name: "same", values: Array(repeating: 3, count: 12)))
        XCTAssertEqual(same.mad, 0); XCTAssertEqual(same.warnings, [])
    }

    func testVerdicts() throws {
        let a = (0..<12).map { 100 + Double($0 % 4) }
        let faster = (0..<12).map { 50 + Double($0 % 4) }
        let slower = (0..<12).map { 200 + Double($0 % 4) }
        let f = try XCTUnwrap(Comparison(a: Samples(name: "A", nanoseconds: a), b: Samples(name: "B", nanoseconds: faster)))
        XCTAssertEqual(f.verdict, .faster)
        XCTAssertLessThan(f.mannWhitney.p, 0.05)
        XCTAssertEqual(f.ratio, 51.5 / 101.5, accuracy: 1e-12)
        XCTAssertEqual(f.speedup, 101.5 / 51.5, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(f.speedupLow!, f.speedup); XCTAssertGreaterThanOrEqual(f.speedupHigh!, f.speedup)
        let s = try XCTUnwrap(Comparison(a: Samples(name: "A", nanoseconds: a), b: Samples(name: "B", nanoseconds: slower)))
        XCTAssertEqual(s.verdict, .slower)
        let same = try XCTUnwrap(Comparison(a: Samples(name: "A", nanoseconds: a), b: Samples(name: "B", nanoseconds: a.reversed())))
        XCTAssertEqual(same.verdict, .noDifference)
        XCTAssertEqual(same.mannWhitney.p, 1, accuracy: 1e-12)
        XCTAssertEqual(same.ratio, 1)
    }

    func testSmallSignificantDifferenceIsFlagged() throws {
        let a = (0..<30).map { 1000 + Double($0 % 3) }
        let b = (0..<30).map { 995 + Double($0 % 3) } // 0.5 % faster, perfectly separated
        let c = try XCTUnwrap(Comparison(a: Samples(name: "A", nanoseconds: a), b: Samples(name: "B", nanoseconds: b)))
        XCTAssertEqual(c.verdict, .faster)
        XCTAssertTrue(c.warnings.contains { $0.kind == .smallEffect }, "\(c.warnings)")
    }

    func testComparisonNeedsSamples() {
        XCTAssertNil(Comparison(a: Samples(name: "A", nanoseconds: []), b: Samples(name: "B", nanoseconds: [1])))
        XCTAssertNil(Comparison(a: Samples(name: "A", nanoseconds: [0, 0]), b: Samples(name: "B", nanoseconds: [1])))
    }

    func testTooFewRunsWarningOnBothSides() throws {
        let c = try XCTUnwrap(Comparison(a: Samples(name: "A", nanoseconds: [5, 6]), b: Samples(name: "B", nanoseconds: [5])))
        XCTAssertEqual(c.warnings.filter { $0.kind == .tooFewRuns }.count, 2)
        XCTAssertEqual(c.verdict, .noDifference)
    }

    func testCodableRoundTrip() throws {
        let c = try XCTUnwrap(Comparison(a: Samples(name: "A", nanoseconds: [3, 4, 5, 4, 3]),
                                         b: Samples(name: "B", nanoseconds: [2, 2, 3, 2, 2])))
        let data = try JSONEncoder().encode(c)
        XCTAssertEqual(try JSONDecoder().decode(Comparison.self, from: data), c)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("\"verdict\""), text)
    }
}
