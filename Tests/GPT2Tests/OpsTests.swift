// Each op of the forward pass and each sampler on inputs small enough to check by hand.
import Foundation
import GPT2
import Kernels
import XCTest

final class OpsTests: XCTestCase {
    private func assertClose(_ a: [Float], _ b: [Float], _ tol: Float = 1e-5, _ msg: String = "",
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, msg, file: file, line: line)
        for i in 0..<min(a.count, b.count) where !(abs(a[i] - b[i]) <= tol) {
            XCTFail("[\(i)] \(a[i]) != \(b[i]) (tolerance \(tol)) \(msg)", file: file, line: line)
            return
        }
    }

    // MARK: encoder

    func testEncoderAddsTokenAndPositionEmbeddings() {
        let wte: [Float] = [1, 2, 3, 4, 5, 6]                  // [Vp=3, C=2]
        let wpe: [Float] = [10, 20, 30, 40, 50, 60, 70, 80]    // [maxT=4, C=2]
        let tokens: [Int32] = [2, 0]
        var out = [Float](repeating: -1, count: 4)
        encoderForward(&out, tokens: tokens, wte: wte, wpe: wpe, pos0: 1, T: 2, C: 2)
        XCTAssertEqual(out, [35, 46, 51, 62] as [Float])  // [5+30, 6+40, 1+50, 2+60]
    }

    // MARK: layernorm

    func testLayernormHandCase() {
        let x: [Float] = [1, 2, 3, 4]
        var out = [Float](repeating: 0, count: 4)
        layernormForward(&out, x, weight: [1, 1, 1, 1], bias: [0, 0, 0, 0], rows: 0..<1, C: 4)
        // mean 2.5, biased variance 1.25
        let r = 1 / (1.25 + 1e-5 as Float).squareRoot()
        assertClose(out, [-1.5 * r, -0.5 * r, 0.5 * r, 1.5 * r])
        layernormForward(&out, x, weight: [2, 2, 2, 2], bias: [1, 0, 0, -1], rows: 0..<1, C: 4)
        assertClose(out, [-3 * r + 1, -r, r, 3 * r - 1])
    }

    func testLayernormConstantRowGivesTheBias() {
        let x: [Float] = [5, 5, 5, 5, 5]
        var out = [Float](repeating: .nan, count: 5)
        layernormForward(&out, x, weight: [3, 3, 3, 3, 3], bias: [0.5, -1, 0, 2, 7], rows: 0..<1, C: 5)
        XCTAssertEqual(out, [0.5, -1, 0, 2, 7], "x - mean = 0 exactly, eps keeps rstd finite")
    }

    func testLayernormOnlyTouchesItsRows() {
        let x: [Float] = [1, 2, 3, 4, 5, 6]  // [T=3, C=2]
        var out = [Float](repeating: 99, count: 6)
        layernormForward(&out, x, weight: [1, 1], bias: [0, 0], rows: 1..<2, C: 2)
        XCTAssertEqual(out[0], 99); XCTAssertEqual(out[1], 99); XCTAssertEqual(out[4], 99); XCTAssertEqual(out[5], 99)
        assertClose(Array(out[2..<4]), [-1, 1], 1e-4)  // [3, 4]: mean 3.5, var 0.25
    }

    // MARK: matmul

    func testMatmulWithAndWithoutBias() {
        let inp: [Float] = [1, 2, 3, 4, 5, 6]   // [T=2, C=3]
        let w: [Float] = [1, 0, -1, 2, 1, 0]    // [OC=2, C=3]
        var out = [Float](repeating: 0, count: 4)
        matmulForwardNaive(&out, inp, weight: w, bias: nil, T: 2, C: 3, OC: 2, columns: 0..<2)
        XCTAssertEqual(out, [-2, 4, -2, 13])
        matmulForwardNaive(&out, inp, weight: w, bias: [10, 20], T: 2, C: 3, OC: 2, columns: 0..<2)
        XCTAssertEqual(out, [8, 24, 8, 33])
    }

    func testMatmulWritesOnlyItsColumns() {
        let inp: [Float] = [1, 2, 3, 4, 5, 6]
        let w: [Float] = [1, 0, -1, 2, 1, 0]
        var out = [Float](repeating: 99, count: 4)
        matmulForwardNaive(&out, inp, weight: w, bias: nil, T: 2, C: 3, OC: 2, columns: 1..<2)
        XCTAssertEqual(out, [99, 4, 99, 13])
    }

    func testMatmulRegistryReferenceIsNaive() {
        XCTAssertEqual(MatmulVariants.reference.name, "naive")
        XCTAssertNotNil(MatmulVariants.named(MatmulVariants.defaultName))
        XCTAssertNotNil(AttentionVariants.named(AttentionVariants.defaultName))
        XCTAssertNil(MatmulVariants.named("no-such-variant"))
    }

    // MARK: attention

    func testAttentionWithOnePositionReturnsTheValues() {
        // C=4, NH=2: q and k arbitrary, a single key gets weight 1 whatever its score.
        let qkv: [Float] = [0.3, -2, 7, 1,   4, 5, -6, 0.1,   1, 2, 3, 4]
        var out = [Float](repeating: 0, count: 4)
        var scratch = [Float](repeating: 0, count: 1)
        attentionForwardNaive(&out, qkv: qkv, scratch: &scratch, pos0: 0, T: 1, C: 4, NH: 2, items: 0..<2)
        XCTAssertEqual(out, [1, 2, 3, 4])
    }

    /// C=2, NH=1 (hs=2), two positions. Row 1's scores are (q1·k0, q1·k1)/sqrt(2) = (ln 3, 0):
    /// weights 3/4, 1/4, so out1 = 0.75 v0 + 0.25 v1 = [2, 1]. Row 0 sees only key 0: out0 = v0.
    func testAttentionTwoPositionsByHand() {
        let a = (2 as Float).squareRoot() * Float(log(3.0))
        let qkv: [Float] = [9, 9,  1, 0,  1, 2,     // position 0: q (unused by row 1), k0, v0
                            a, 0,  0, 0,  5, -2]    // position 1: q1, k1, v1
        var out = [Float](repeating: 0, count: 4)
        var scratch = [Float](repeating: 0, count: 2)
        attentionForwardNaive(&out, qkv: qkv, scratch: &scratch, pos0: 0, T: 2, C: 2, NH: 1, items: 0..<2)
        assertClose(out, [1, 2, 2, 1])
        // The same row 1 through the KV cache: pos0 = 1, T = 1, keys/values of position 0 already there.
        var one = [Float](repeating: 0, count: 2)
        attentionForwardNaive(&one, qkv: qkv, scratch: &scratch, pos0: 1, T: 1, C: 2, NH: 1, items: 0..<1)
        assertClose(one, [2, 1])
    }

    func testAttentionHeadsAreIndependent() {
        // C=4, NH=2, T=2: head 0 = the hand case above in channels 0-1, head 1 has equal scores (weights 1/2).
        let a = (2 as Float).squareRoot() * Float(log(3.0))
        let qkv: [Float] = [9, 9, 0, 0,   1, 0, 0, 0,   1, 2, 10, 20,
                            a, 0, 0, 0,   0, 0, 0, 0,   5, -2, 30, 40]
        var out = [Float](repeating: 0, count: 8)
        var scratch = [Float](repeating: 0, count: 2)
        attentionForwardNaive(&out, qkv: qkv, scratch: &scratch, pos0: 0, T: 2, C: 4, NH: 2, items: 0..<4)
        assertClose(out, [1, 2, 10, 20,   2, 1, 20, 30])
    }

    // MARK: gelu, residual

    func testGelu() {
        let x: [Float] = [0, 1, -1, 10, -10, 3]
        var out = [Float](repeating: .nan, count: x.count)
        geluForward(&out, x, range: 0..<x.count)
        XCTAssertEqual(out[0], 0)
        XCTAssertEqual(out[1], 0.8411920, accuracy: 1e-6)   // 0.5 (1 + tanh(sqrt(2/pi) 1.044715))
        XCTAssertEqual(out[2], -0.1588080, accuracy: 1e-6)
        XCTAssertEqual(out[3], 10, accuracy: 1e-5)
        XCTAssertEqual(out[4], 0, accuracy: 1e-5)
        XCTAssertEqual(out[5], 2.9963627, accuracy: 1e-5)
        // in place
        var y = x
        y.withUnsafeMutableBufferPointer { geluForward($0.baseAddress!, $0.baseAddress!, range: 1..<3) }
        XCTAssertEqual(y[0], 0); XCTAssertEqual(y[1], out[1]); XCTAssertEqual(y[2], out[2]); XCTAssertEqual(y[3], 10)
    }

    func testResidual() {
        var a: [Float] = [1, 2, 3, 4]
        let b: [Float] = [10, 20, 30, 40]
        var out = [Float](repeating: 0, count: 4)
        residualForward(&out, a, b, range: 0..<4)
        XCTAssertEqual(out, [11, 22, 33, 44])
        a.withUnsafeMutableBufferPointer { residualForward($0.baseAddress!, $0.baseAddress!, b, range: 1..<3) }
        XCTAssertEqual(a, [1, 22, 33, 4])
    }

    // MARK: softmax

    func testSoftmaxSumsToOneAndZeroesThePadding() {
        let logits: [Float] = [1, 2, 3, 99, 99,     0, 0, 0, -5, 5]   // [T=2, Vp=5], V=3
        var probs = [Float](repeating: .nan, count: 10)
        softmaxForward(&probs, logits, rows: 0..<2, V: 3, Vp: 5)
        assertClose(Array(probs[0..<3]), [0.09003057, 0.24472847, 0.66524096], 1e-6)
        assertClose(Array(probs[5..<8]), [1.0 / 3, 1.0 / 3, 1.0 / 3], 1e-6)
        XCTAssertEqual(Array(probs[3..<5]), [0, 0])
        XCTAssertEqual(Array(probs[8..<10]), [0, 0])
        XCTAssertEqual(probs[0..<3].reduce(0, +), 1, accuracy: 1e-6)
    }

    func testSoftmaxOfLargeLogitsDoesNotOverflow() {
        let logits: [Float] = [1000, 1000, 990]
        var probs = [Float](repeating: 0, count: 3)
        softmaxForward(&probs, logits, rows: 0..<1, V: 3, Vp: 3)
        XCTAssertTrue(probs.allSatisfy(\.isFinite))
        XCTAssertEqual(probs[0], probs[1])
        XCTAssertEqual(probs.reduce(0, +), 1, accuracy: 1e-6)
    }

    // MARK: samplers

    private func mult(_ p: [Float], coin: Float = 0.5) -> Int { p.withUnsafeBufferPointer { sampleMult($0, coin: coin) } }
    private func amax(_ p: [Float]) -> Int { p.withUnsafeBufferPointer { argmax($0) } }

    func testSampleMult() {
        XCTAssertEqual(mult([0.1, 0.2, 0.3, 0.4]), 2)             // cdf 0.1, 0.3, 0.6
        XCTAssertEqual(mult([0.25, 0.25, 0.5]), 2, "0.5 < 0.5 is false: the sum must exceed the coin")
        XCTAssertEqual(mult([0.6, 0.4]), 0)
        XCTAssertEqual(mult([1]), 0)
        XCTAssertEqual(mult([0, 0.5, 0.5], coin: 0), 1, "a zero-probability token is never picked at coin 0")
        XCTAssertEqual(mult([0.1, 0.2, 0.3, 0.4], coin: 0.05), 0)
        XCTAssertEqual(mult([0.1, 0.2, 0.3, 0.4], coin: 0.95), 3)
    }

    func testSampleMultFallsBackToTheLastIndex() {
        XCTAssertEqual(mult([0.1, 0.1, 0.1]), 2, "the cdf never exceeds the coin")
        XCTAssertEqual(mult([0, 0, 0, 0]), 3)
        XCTAssertEqual(mult([0.25, 0.25, 0.25, 0.25], coin: 1), 3, "cdf reaches 1 but never exceeds it")
    }

    func testSampleMultUsesARunningFloatSum() {
        // 0.1f = 0.100000001490116...: five of them add up to 0.5000000075 exactly (so a double sum would pick
        // index 4), but the running float32 sum rounds to exactly 0.5 at index 4 and first exceeds it at 5.
        XCTAssertEqual(mult([Float](repeating: 0.1, count: 10)), 5)
    }

    func testArgmaxTakesTheFirstOfTies() {
        XCTAssertEqual(amax([1, 3, 3, 2]), 1)
        XCTAssertEqual(amax([7]), 0)
        XCTAssertEqual(amax([-5, -1, -1]), 1)
        XCTAssertEqual(amax([0, 0, 0]), 0)
        XCTAssertEqual(amax([1, 2, 3, 4, 5]), 4)
    }
}
