import Foundation
import XCTest
@testable import Kernels

/// The SIMD layer's helpers against plain scalar code, including the scalar tails (n not a multiple of 16).
final class SIMDTests: XCTestCase {
    func testExp16AgainstExpf() {
        var worst: Float = 0
        var x: Float = -87
        while x <= 88 {
            let v = exp16(SIMD16<Float>((0..<16).map { x + Float($0) * 0.0137 }))
            for i in 0..<16 {
                let xi = x + Float(i) * 0.0137
                guard xi <= 88 else { continue }
                let ref = expf(xi)
                worst = max(worst, abs(v[i] - ref) / ref)
            }
            x += 0.21
        }
        XCTAssertLessThanOrEqual(worst, 2e-7, "exp16 relative error")
        // clamped below: tiny but positive and finite, never NaN
        let low = exp16(SIMD16(repeating: -1000))
        XCTAssertTrue(low[0] > 0 && low[0] < 1e-37)
        XCTAssertEqual(exp16(SIMD16(repeating: 0))[5], 1)
    }

    func testDotAndHorizontalSum() {
        for n in [0, 1, 15, 16, 17, 63, 64, 65, 130] {
            let a = randomFloats(n, seed: 1), b = randomFloats(n, seed: 2)
            let exact = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let got = dotSIMD(a, b, n)
            let bound = Double(n + 1) * 0x1p-23 * zip(a, b).reduce(0.0) { $0 + abs(Double($1.0 * $1.1)) }
            XCTAssertLessThanOrEqual(abs(Double(got) - exact), bound, "n=\(n)")
        }
        let v = SIMD16<Float>((0..<16).map { Float($0) })
        XCTAssertEqual(horizontalSum(v), 120)
    }

    func testDot16RowsWritesOnlyCountResults() {
        let n = 37, stride = 50
        let q = randomFloats(n, seed: 3), rows = randomFloats(16 * stride, seed: 4)
        for count in [1, 5, 16] {
            var out = [Float](repeating: .nan, count: 17)
            dot16Rows(&out, q, rows, stride: stride, count: count, n: n, scale: 0.5)
            for u in 0..<17 {
                if u < count {
                    let ref = 0.5 * dotSIMD(q, Array(rows[(u * stride)...]), n)
                    XCTAssertEqual(out[u], ref, accuracy: 1e-5, "count \(count) row \(u)")
                } else {
                    XCTAssertTrue(out[u].isNaN, "count \(count): out[\(u)] written")
                }
            }
        }
    }

    /// The packed (transposed) scores must equal the direct ones bit for bit, or the online attention
    /// would give different bits for a row decoded alone (direct) and inside a prefill (packed).
    func testDot16TransposedIsBitIdenticalToDot16Rows() {
        for n in [1, 12, 16, 37, 64, 80] {
            let stride = n + 5
            let q = randomFloats(n, seed: 11), rows = randomFloats(40 * stride, seed: 12)
            var packed = [Float](repeating: .nan, count: 3 * 16 * n)
            for count in [1, 7, 16, 33, 40] {
                packTransposed16(&packed, rows, stride: stride, count: count, n: n)
                for b in 0..<((count + 15) / 16) {
                    let m = min(16, count - b * 16)
                    var direct = [Float](repeating: .nan, count: 17), transposed = direct
                    dot16Rows(&direct, q, Array(rows[(b * 16 * stride)...]), stride: stride, count: m, n: n, scale: 0.3)
                    dot16Transposed(&transposed, q, Array(packed[(b * 16 * n)...]), count: m, n: n, scale: 0.3)
                    XCTAssertTrue(bitIdentical(direct, transposed), "n=\(n) count=\(count) block \(b)")
                    XCTAssertTrue(transposed[m...].allSatisfy { $0.isNaN }, "wrote past count")
                }
            }
        }
    }

    func testAccumulateRowsScaleMaximumExpShiftSum() {
        for n in [1, 12, 16, 64, 80, 100] {
            let m = 5, stride = n + 3
            let a = randomFloats(m, seed: 5), x = randomFloats(m * stride, seed: 6)
            var y = randomFloats(n, seed: 7)
            var ref = y
            for u in 0..<m { for j in 0..<n { ref[j] = ref[j].addingProduct(a[u], x[u * stride + j]) } }
            accumulateRowsSIMD(&y, a, x, stride: stride, m: m, n: n)
            XCTAssertEqual(y, ref, "accumulateRows n=\(n): same FMA order, same bits")
            scaleSIMD(&y, 2, n)
            XCTAssertEqual(y, ref.map { $0 * 2 })
            XCTAssertEqual(maximum(y, n, floor: -.infinity), y.max()!)
            XCTAssertEqual(maximum(y, n, floor: 1e9), 1e9)
        }
        for n in [1, 15, 16, 33] {
            var s = randomFloats(n, seed: 8, scale: 5)
            let before = s
            var guardRow = s + [7, 7]
            let sum = expShiftSum(&guardRow, n, shift: 1)
            s = Array(guardRow[0..<n])
            XCTAssertEqual(Array(guardRow[n...]), [7, 7], "expShiftSum wrote past n")
            for i in 0..<n { XCTAssertEqual(s[i], expf(before[i] - 1), accuracy: 2e-7 * expf(before[i] - 1)) }
            XCTAssertEqual(sum, s.reduce(0, +), accuracy: 1e-5 * sum)
        }
    }
}
