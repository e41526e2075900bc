import XCTest
@testable import Bench

final class ScalingTests: XCTestCase {
    func testAmdahlFitRecoversTheSerialFractionOfExactPoints() throws {
        for f in [0.0, 0.05, 0.3, 1.0] {
            let points = [1, 2, 3, 4, 8].map { (threads: $0, speedup: Scaling.amdahlSpeedup(serialFraction: f, threads: $0)) }
            let fit = try XCTUnwrap(Scaling.amdahlSerialFraction(speedups: points))
            XCTAssertEqual(fit, f, accuracy: 1e-12)
        }
    }

    func testAmdahlFitByHand() throws {
        // k = 2, S = 1.6: 1/S - 1/k = 0.125, 1 - 1/k = 0.5 -> f = 0.25 (check: 1 / (0.25 + 0.75/2) = 1.6)
        XCTAssertEqual(try XCTUnwrap(Scaling.amdahlSerialFraction(speedups: [(1, 1), (2, 1.6)])), 0.25, accuracy: 1e-12)
        // superlinear speedups clamp at 0; slowdowns clamp at 1
        XCTAssertEqual(Scaling.amdahlSerialFraction(speedups: [(2, 2.5)]), 0)
        XCTAssertEqual(Scaling.amdahlSerialFraction(speedups: [(2, 0.5)]), 1)
        // one thread count only: nothing to fit
        XCTAssertNil(Scaling.amdahlSerialFraction(speedups: [(1, 1)]))
        XCTAssertNil(Scaling.amdahlSerialFraction(speedups: []))
    }

    func testUsableCores() {
        XCTAssertEqual(Scaling.usableCores(threads: 4, singleSeconds: 1, parallelSeconds: 2), 2, accuracy: 1e-12)
        XCTAssertEqual(Scaling.usableCores(threads: 2, singleSeconds: 1, parallelSeconds: 1), 2, accuracy: 1e-12)
        XCTAssertTrue(Scaling.usableCores(threads: 2, singleSeconds: 1, parallelSeconds: 0).isNaN)
    }

    func testScalingPointMedian() {
        XCTAssertEqual(ScalingPoint(threads: 1, seconds: [3, 1, 2]).median, 2)
        XCTAssertTrue(ScalingPoint(threads: 1, seconds: []).median.isNaN)
    }
}
