import XCTest
import CQuant
@testable import Kernels

/// The weight-format variants (bf16, q8, q4): their error against naive on odd shapes, the exact arithmetic
/// they promise (bf16 == tiled over the bf16-rounded weight; SIMD == scalar code), the determinism rule,
/// matrices that arrive packed, and the scalar conversions.
final class QuantVariantTests: XCTestCase {
    static let formats: [WeightFormat] = [.bf16, .q8, .q4]
    /// (T, C, OC, extra weight rows): T = 1, 7, 64; C not a multiple of 32 or 64 (67, 33, 1, 100, 130) and
    /// GPT-2-like (768); OC not a multiple of the panels; OC < rows (the lm-head).
    static let shapes: [(Int, Int, Int, Int)] = [
        (1, 67, 5, 0), (7, 67, 33, 0), (64, 67, 33, 7), (1, 768, 100, 3), (7, 768, 257, 0), (64, 768, 64, 0),
        (1, 33, 40, 0), (7, 1, 17, 0), (64, 100, 31, 1), (13, 130, 97, 3), (1, 128, 48, 0), (64, 64, 16, 0),
    ]

    func variant(_ f: WeightFormat) -> MatmulVariant { MatmulVariants.named(f.rawValue)! }

    func testRegistry() {
        for f in Self.formats {
            let v = variant(f)
            XCTAssertEqual(v.weightFormat, f)
            XCTAssertTrue(v.isLossy)
            XCTAssertTrue(v.standaloneOnPool)
            XCTAssertTrue(v.bitReproducible)
            XCTAssertEqual(v.tolerance, f.tolerance)
            XCTAssertEqual(v.columnAlignment, f == .bf16 ? 32 : 16)
            XCTAssertGreaterThan(f.tolerance, 0)
        }
        for name in ["naive", "simd", "tiled", "threaded", "blas"] {
            XCTAssertEqual(MatmulVariants.named(name)!.weightFormat, .f32, name)
            XCTAssertFalse(MatmulVariants.named(name)!.isLossy)
        }
        XCTAssertEqual(MatmulVariants.registry.builtIn.map(\.name).suffix(3), ["bf16", "q8", "q4"])
        XCTAssertTrue(MatmulVariants.formatKernelsUseSIMD, "this machine has AVX-512 VNNI: the SIMD kernels must be built")
        // bytes: bf16 2 B, q8 34 B and q4 18 B per 32 weights at GPT-2 shapes
        XCTAssertEqual(WeightFormat.bf16.bytes(rows: 2304, cols: 768), 2304 * 768 * 2)
        XCTAssertEqual(WeightFormat.q8.bytes(rows: 2304, cols: 768), 2304 * 768 / 32 * 34)
        XCTAssertEqual(WeightFormat.q4.bytes(rows: 2304, cols: 768), 2304 * 768 / 32 * 18)
        XCTAssertEqual(WeightFormat.q8.bytes(rows: 17, cols: 65), 2 * 2 * 1088, "rows padded to 16, C to 64")
        XCTAssertEqual(WeightFormat.f32.bytes(rows: 3, cols: 5), 60)
        XCTAssertEqual(WeightFormat(code: 2), .q8)
        XCTAssertNil(WeightFormat(code: 9))
    }

    /// `KernelError.normalised` against naive within the format's tolerance, on every shape, with and without bias.
    func testErrorAgainstNaiveWithinTolerance() {
        for (T, C, OC, extra) in Self.shapes {
            for bias in [true, false] {
                let p = MatmulProblem(T: T, C: C, OC: OC, extraRows: extra, bias: bias, seed: UInt64(T * 1000 + C))
                let ref = p.run { MatmulVariants.reference.kernel($0, 0..<OC) }
                for f in Self.formats {
                    let v = variant(f)
                    v.prepare(p.weight)
                    let got = p.run { v.kernel($0, 0..<OC) }
                    XCTAssertFalse(got.contains { $0.isNaN }, "\(f) T=\(T) C=\(C) OC=\(OC): unwritten outputs")
                    let e = kernelError(got, ref)
                    XCTAssertTrue(e.passes(v.tolerance), "\(f) T=\(T) C=\(C) OC=\(OC) rows=\(p.rows) bias=\(bias): \(e.normalised)")
                }
            }
        }
    }

    /// The tolerances are tight enough to catch dropped blocks, and the relative RMS errors at the GPT-2 width
    /// are what Notes/formats.md states.
    func testTolerancesCatchBugsAndMatchTheNotes() {
        let p = MatmulProblem(T: 16, C: 768, OC: 256, seed: 3)
        let ref = p.run { MatmulVariants.reference.kernel($0, 0..<256) }
        let expected: [WeightFormat: ClosedRange<Double>] = [.bf16: 1.0e-3...2.0e-3, .q8: 3.5e-3...7e-3, .q4: 0.05...0.08]
        for f in Self.formats {
            let v = variant(f)
            v.prepare(p.weight)
            let got = p.run { v.kernel($0, 0..<256) }
            XCTAssertTrue(expected[f]!.contains(relRMS(got, ref)), "\(f): \(relRMS(got, ref))")
            XCTAssertLessThanOrEqual(kernelError(got, ref).normalised, f.tolerance / 2, "\(f): room below the tolerance")
            // three blocks of 32 channels (of 24) dropped from the input: far outside the tolerance
            var x = p.inp
            for t in 0..<16 { for k in 0..<96 { x[t * 768 + k] = 0 } }
            let dropped = MatmulProblem(p, inputs: x).run { v.kernel($0, 0..<256) }
            XCTAssertGreaterThan(kernelError(dropped, ref).normalised, 2 * f.tolerance, "\(f) misses dropped blocks")
        }
    }

    /// bf16 is tiled's FMA chain over the bf16-rounded weight, bit for bit.
    func testBF16IsTiledOverTheRoundedWeight() {
        for (T, C, OC, extra) in [(1, 67, 33, 0), (37, 768, 100, 5), (9, 3072, 40, 0)] {
            let p = MatmulProblem(T: T, C: C, OC: OC, extraRows: extra, seed: 9)
            let v = variant(.bf16)
            v.prepare(p.weight)
            let got = p.run { v.kernel($0, 0..<OC) }
            let rounded = (0..<(p.rows * C)).map { Float(bitPattern: UInt32(cq_bf16_from_float(p.weight.data[$0])) << 16) }
            let q = MatmulProblem(p, weights: rounded)
            let tiled = MatmulVariants.named("tiled")!
            tiled.prepare(q.weight)
            XCTAssertTrue(bitIdentical(got, q.run { tiled.kernel($0, 0..<OC) }), "bf16 T=\(T) C=\(C)")
        }
    }

    /// The AVX-512 kernels give the same bits as the scalar statement of the rule.
    func testSIMDEqualsScalar() {
        for (T, C, OC, extra) in [(1, 67, 33, 7), (7, 768, 100, 0), (64, 130, 70, 2), (5, 3072, 48, 0), (9, 1, 20, 0)] {
            for bias in [true, false] {
                let p = MatmulProblem(T: T, C: C, OC: OC, extraRows: extra, bias: bias, seed: 17)
                for f in Self.formats {
                    let packed = MatmulVariants.prepareFormat(f, p.weight)
                    let simd = p.run { a in cq_matmul(f.code, a.out, a.inp, packed, a.bias, Int32(T), Int32(C), Int32(OC), 0, Int32(OC)) }
                    let scalar = p.run { a in cq_matmul_scalar(f.code, a.out, a.inp, packed, a.bias, Int32(T), Int32(C), Int32(OC), 0, Int32(OC)) }
                    XCTAssertTrue(bitIdentical(simd, scalar), "\(f) T=\(T) C=\(C) OC=\(OC) bias=\(bias)")
                }
            }
        }
    }

    /// q8/q4 use exactly the unpacked weight: naive over `unpack(pack(w))` differs from the kernel only by the
    /// activations' int8 rounding (about 1/sqrt(3)/127/2 relative per input), far less than the weight error.
    func testUnpackedWeightsAreWhatTheKernelsUse() {
        let p = MatmulProblem(T: 8, C: 256, OC: 64, seed: 4)
        for f in Self.formats {
            let v = variant(f)
            v.prepare(p.weight)
            let got = p.run { v.kernel($0, 0..<64) }
            var w = [Float](repeating: 0, count: p.rows * 256)
            f.unpack(&w, from: p.weight.existingFormatBytes(f.cacheKey)!, rows: p.rows, cols: 256)
            let q = MatmulProblem(p, weights: w)
            let ref = q.run { MatmulVariants.reference.kernel($0, 0..<64) }
            let bound = f == .bf16 ? 1e-6 : 6e-3
            XCTAssertLessThan(relRMS(got, ref), bound, "\(f)")
        }
    }

    /// Every weight is within half a quantization step of its value (or, q4, of a clamped end code); the step is
    /// about the block's max |w| / 127 (q8) or max / 8 (q4); bf16 keeps 8 significant bits.
    func testQuantizationSteps() {
        let rows = 20, C = 100
        let w = randomFloats(rows * C, seed: 77)
        let m = WeightMatrix(copying: w, rows: rows, cols: C)
        for f in Self.formats {
            let packed = MatmulVariants.prepareFormat(f, m)
            var u = [Float](repeating: 0, count: rows * C)
            f.unpack(&u, from: packed, rows: rows, cols: C)
            for r in 0..<rows {
                for b in 0..<((C + 31) / 32) {
                    let ks = (32 * b)..<min(C, 32 * b + 32)
                    let amax = ks.map { abs(w[r * C + $0]) }.max()!
                    for k in ks {
                        let err = abs(u[r * C + k] - w[r * C + k])
                        switch f {
                        case .bf16: XCTAssertLessThanOrEqual(err, abs(w[r * C + k]) * 0x1p-8)
                        // the scale search picks the least-squares step of roundings at (127 +- 5) / max (q8) and
                        // (8 +- 1) / max (q4): one weight may be off by a little more than half a step, or clamped
                        case .q8: XCTAssertLessThanOrEqual(err, amax * 0.005 + 1e-7)
                        case .q4: XCTAssertLessThanOrEqual(err, amax * 2 / 9 * 1.002 + 1e-7)  // half a step, or a clamped end code
                        case .f32: break
                        }
                    }
                }
            }
        }
    }

    func testOnlyTheGivenColumnsAreWritten() {
        let p = MatmulProblem(T: 5, C: 40, OC: 70)
        for f in Self.formats {
            let v = variant(f)
            v.prepare(p.weight)
            for cols in [17..<45, 0..<1, 69..<70, 16..<32, 3..<67] {
                let got = p.run { v.kernel($0, cols) }
                for t in 0..<5 {
                    for o in 0..<70 { XCTAssertEqual(!got[t * 70 + o].isNaN, cols.contains(o), "\(f) \(cols): out[\(t), \(o)]") }
                }
            }
        }
    }

    /// The determinism rule: a row alone (T = 1) equals that row of a T = 37 batch; T = 2, 3, 4 calls equal their
    /// rows of the batch; odd column splits equal the whole call; pools of 1, 2, 3 workers equal one call.
    func testDeterminism() {
        let pools = [1, 2, 3].map { WorkerPool(count: $0) }
        for (C, OC, extra) in [(67, 33, 7), (768, 100, 0), (36, 64, 0), (3072, 40, 0)] {
            for bias in [true, false] {
                let p = MatmulProblem(T: 37, C: C, OC: OC, extraRows: extra, bias: bias, seed: 11)
                for f in Self.formats {
                    let v = variant(f)
                    v.prepare(p.weight)
                    let batch = p.run { v.kernel($0, 0..<OC) }
                    for t in [0, 5, 8, 31, 36] {
                        let alone = p.run(T: 1, inputRow: t) { v.kernel($0, 0..<OC) }
                        XCTAssertTrue(bitIdentical(alone, Array(batch[(t * OC)..<((t + 1) * OC)])), "\(f) C=\(C): row \(t) alone")
                    }
                    for rows in [2, 3, 4, 9] {
                        let part = p.run(T: rows, inputRow: 28) { v.kernel($0, 0..<OC) }
                        XCTAssertTrue(bitIdentical(part, Array(batch[(28 * OC)..<((28 + rows) * OC)])), "\(f) C=\(C): T=\(rows)")
                    }
                    for cuts in [[0, 1, OC], [0, 5, 19, 32, OC], [0, 13, 45, OC - 1, OC]].map({ $0.map { min($0, OC) }.sorted() }) {
                        let pieces = p.run { a in for (lo, hi) in zip(cuts, cuts.dropFirst()) { v.kernel(a, lo..<hi) } }
                        XCTAssertTrue(bitIdentical(pieces, batch), "\(f) C=\(C): columns cut at \(cuts)")
                        let row = p.run(T: 1, inputRow: 8) { a in for (lo, hi) in zip(cuts, cuts.dropFirst()) { v.kernel(a, lo..<hi) } }
                        XCTAssertTrue(bitIdentical(row, Array(batch[(8 * OC)..<(9 * OC)])), "\(f) C=\(C): decode row cut at \(cuts)")
                    }
                    for pool in pools {
                        XCTAssertTrue(bitIdentical(p.run { v.run($0, on: pool) }, batch), "\(f) C=\(C): split over \(pool.count)")
                        XCTAssertTrue(bitIdentical(p.run(T: 1, inputRow: 3) { v.run($0, on: pool) }, Array(batch[(3 * OC)..<(4 * OC)])),
                                      "\(f) C=\(C): decode split over \(pool.count)")
                    }
                }
            }
        }
    }

    /// A matrix that arrives in a format (a converted file's bytes) computes what a prepared fp32 matrix does,
    /// without an fp32 copy until a variant asks for `data`, which is then the unpacked weight.
    func testMatrixThatArrivesPacked() {
        let p = MatmulProblem(T: 7, C: 130, OC: 50, extraRows: 2, seed: 8)
        for f in Self.formats {
            let v = variant(f)
            v.prepare(p.weight)
            let src = p.weight.existingFormatBytes(f.cacheKey)!
            let count = f.bytes(rows: p.rows, cols: 130)
            let copy = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
            defer { copy.deallocate() }
            copy.copyMemory(from: src, byteCount: count)
            let rows = p.rows
            let arrived = WeightMatrix(rows: rows, cols: 130, key: f.cacheKey, bytes: copy, count: count, owner: nil) { dst in
                f.unpack(dst, from: copy, rows: rows, cols: 130)
            }
            XCTAssertTrue(arrived.arrivedPacked)
            let q = MatmulProblem(p, matrix: arrived)
            v.prepare(arrived)
            XCTAssertEqual(arrived.existingFormatBytes(f.cacheKey), UnsafeRawPointer(copy), "prepare must not re-pack")
            XCTAssertTrue(bitIdentical(q.run { v.kernel($0, 0..<50) }, p.run { v.kernel($0, 0..<50) }), "\(f)")
            // an fp32 variant on it reads the unpacked weight
            var u = [Float](repeating: 0, count: rows * 130)
            f.unpack(&u, from: copy, rows: rows, cols: 130)
            XCTAssertEqual(Array(UnsafeBufferPointer(start: arrived.data, count: rows * 130)), u)
            let naive = q.run { MatmulVariants.reference.kernel($0, 0..<50) }
            let naiveU = MatmulProblem(p, weights: u).run { MatmulVariants.reference.kernel($0, 0..<50) }
            XCTAssertTrue(bitIdentical(naive, naiveU))
        }
    }

    func testActivationBlockQuantization() {
        var x: [Float] = (0..<32).map { Float($0) - 10.5 }
        var q = [Int8](repeating: 0, count: 32)
        var sum: Int32 = 0
        let d = cq_quantize_block(&x, 32, &q, &sum)
        XCTAssertEqual(d, 20.5 / 127)
        XCTAssertEqual(q[31], 127)
        XCTAssertEqual(sum, q.reduce(0) { $0 + Int32($1) })
        for i in 0..<32 { XCTAssertLessThanOrEqual(abs(Float(q[i]) * d - x[i]), d / 2 * 1.0001) }
        var z = [Float](repeating: 0, count: 32)
        XCTAssertEqual(cq_quantize_block(&z, 32, &q, &sum), 0)
        XCTAssertEqual(sum, 0)
    }

    func testFP16AndBF16Conversions() {
        var s: UInt64 = 12345
        var values: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e-8, 5.96e-8, 2.98e-8, 6.1e-5, 6.097e-5, 1e9, .infinity, -.infinity,
                               0x1p-14, 0x1p-24, 0x1.8p-25, 3.14159, 1.0009765625, 1.00048828125, 1.0014648438]
        for _ in 0..<20000 {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            values.append(Float(bitPattern: UInt32(truncatingIfNeeded: s >> 7) & 0x7FFF_FFFF | (s & 1 == 0 ? 0 : 0x8000_0000)))
        }
        for v in values where !v.isNaN {
            #if arch(x86_64) || arch(arm64)
            let expected = Float16(v).bitPattern
            XCTAssertEqual(cq_fp16_from_float(v), expected, "fp16(\(v))")
            XCTAssertEqual(cq_float_from_fp16(expected), Float(Float16(bitPattern: expected)), "float(fp16 \(expected))")
            #endif
            // bf16: nearest even of the top 16 bits
            let b = cq_bf16_from_float(v)
            let back = Float(bitPattern: UInt32(b) << 16)
            if v.isFinite && abs(v) < 3e38 {
                XCTAssertLessThanOrEqual(abs(back - v), max(abs(v) * 0x1p-8, 0x1p-134), "bf16(\(v))")
            }
        }
        XCTAssertTrue(Float(bitPattern: UInt32(cq_bf16_from_float(.nan)) << 16).isNaN)
        XCTAssertEqual(cq_bf16_from_float(1.00390625), 0x3F80, "ties go to even")
        XCTAssertEqual(cq_bf16_from_float(1.01171875), 0x3F82, "ties go to even")
    }
}

private func relRMS(_ a: [Float], _ b: [Float]) -> Double {
    a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { r in relativeRMSError(x.baseAddress!, r.baseAddress!, count: a.count) } }
}

private func kernelError(_ a: [Float], _ b: [Float]) -> KernelError {
    a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { r in KernelError(x.baseAddress!, r.baseAddress!, count: a.count) } }
}

extension MatmulProblem {
    /// `base` with other inputs and/or another weight matrix (same shape, bias and rows).
    init(_ base: MatmulProblem, inputs: [Float]? = nil, matrix: WeightMatrix? = nil) {
        T = base.T; C = base.C; OC = base.OC; rows = base.rows; bias = base.bias
        inp = inputs ?? base.inp
        weight = matrix ?? base.weight
    }
    /// `base` over the row-major weights `weights` [rows, C].
    init(_ base: MatmulProblem, weights: [Float]) {
        self.init(base, matrix: WeightMatrix(copying: weights, rows: base.rows, cols: base.C))
    }
}
