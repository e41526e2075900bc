import XCTest
@testable import Kernels

final class GeluSIMDTests: XCTestCase {
    /// The SIMD gelu against the scalar reference (tanhf) over [-30, 30] and special values.
    func testMatchesTheScalarReference() {
        var xs: [Float] = stride(from: -30.0, through: 30.0, by: 0.001).map { Float($0) }
        xs += [0, -0.0, 1e-30, -1e-30, 1e4, -1e4, 3e38, -3e38, .leastNormalMagnitude]
        let n = xs.count
        var ref = [Float](repeating: 0, count: n), got = [Float](repeating: 0, count: n)
        geluForward(&ref, xs, range: 0..<n)
        geluForwardSIMD(&got, xs, range: 0..<n)
        var worst: Float = 0
        for i in 0..<n {
            XCTAssertTrue(got[i].isFinite, "gelu(\(xs[i])) = \(got[i])")
            let err = abs(got[i] - ref[i]) / max(1, abs(xs[i]))
            worst = max(worst, err)
            XCTAssertLessThanOrEqual(err, 1e-6, "gelu(\(xs[i])): simd \(got[i]) vs scalar \(ref[i])")
        }
        XCTAssertEqual(got[xs.firstIndex(of: 0)!], 0)
        XCTAssertEqual(got[xs.firstIndex(of: 1e4)!], 1e4)
        XCTAssertEqual(got[xs.firstIndex(of: -1e4)!], 0, accuracy: 1e-30)
        print("max |simd - scalar| / max(1, |x|) = \(worst)")
    }

    /// An element's result is the same wherever a split puts it (odd offsets, tails, in place).
    func testSplitsAreBitIdentical() {
        var rng = SystemRandomNumberGenerator()
        let n = 1000
        let xs = (0..<n).map { _ in Float.random(in: -8...8, using: &rng) }
        var whole = [Float](repeating: 0, count: n)
        geluForwardSIMD(&whole, xs, range: 0..<n)
        for cut in [1, 7, 15, 16, 17, 333, 999] {
            var parts = [Float](repeating: 0, count: n)
            geluForwardSIMD(&parts, xs, range: 0..<cut)
            geluForwardSIMD(&parts, xs, range: cut..<n)
            XCTAssertEqual(parts, whole, "split at \(cut)")
        }
        var inPlace = xs
        inPlace.withUnsafeMutableBufferPointer { geluForwardSIMD($0.baseAddress!, $0.baseAddress!, range: 3..<n) }
        XCTAssertEqual(Array(inPlace[3...]), Array(whole[3...]))
        XCTAssertEqual(Array(inPlace[..<3]), Array(xs[..<3]))
    }
}
